import { afterEach, describe, expect, test } from "bun:test";
import { freshTimestamp, LegacyPhone, signAuth } from "../support/phone.ts";
import { BOT, identity, startTestGateway, type TestGateway, connected } from "../support/harness.ts";

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

describe("auth block verification", () => {
  test("a bad signature is answered with AUTH_FAILED and not processed", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-sig");
    const auth = signAuth(phone.id, freshTimestamp());
    auth.signature = (auth.signature as string).replace(/^./, (c) => (c === "0" ? "1" : "0"));
    phone.write(phone.analyzeLine({ text: "!ping" }, auth));
    const err = await phone.next((f) => f.event === "error");
    expect(err.data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_BAD_SIGNATURE")).toBe(1);
    // the session survives one failure and a good message still works
    phone.write(phone.analyzeLine({ text: "!ping" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    // the secret never reaches the logs
    expect(gw.logs.join("\n")).not.toContain(BOT.secret);
    expect(gw.logs.join("\n")).not.toContain(auth.signature as string);
    phone.destroy();
  });

  test("a wrong secret (forged by someone without it) fails", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-forge");
    const forged = signAuth({ ...phone.id, secret: "not-the-real-secret-at-all" }, freshTimestamp());
    phone.write(phone.analyzeLine({ text: "!ping" }, forged));
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_BAD_SIGNATURE")).toBe(1);
    phone.destroy();
  });

  test("a stale timestamp (beyond +/-5 min) fails", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-stale");
    phone.write(phone.analyzeLine({ text: "!ping" }, signAuth(phone.id, Date.now() - 5 * 60_000 - 5_000)));
    phone.write(phone.analyzeLine({ text: "!ping" }, signAuth(phone.id, Date.now() + 5 * 60_000 + 5_000)));
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_STALE")).toBe(2);
    phone.destroy();
  });

  test("an event queued offline 30 s ago is still accepted", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-queued");
    phone.write(phone.analyzeLine({ text: "!ping" }, signAuth(phone.id, Date.now() - 30_000, { ipAddress: "0.0.0.0" })));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    phone.destroy();
  });

  test("a replayed auth block on forged content is rejected", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-replay");
    const auth = signAuth(phone.id, freshTimestamp());
    phone.write(phone.analyzeLine({ text: "!echo genuine" }, auth));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("genuine");
    const genuine = gw.app.gateway.getSession(BOT.name, "dev-replay")!;
    // an attacker who saw the frame reuses the block on new content, on the same connection...
    phone.write(phone.analyzeLine({ text: "!echo forged" }, auth));
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_REPLAY")).toBe(1);
    // ...or from another connection of the same device: the used block is no proof for a takeover
    const attacker = await connected(gw.port, "dev-replay");
    attacker.write(attacker.analyzeLine({ text: "!echo forged again" }, auth));
    expect((await attacker.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_REPLAY")).toBe(2);
    expect(gw.app.gateway.metrics.takeovers.value).toBe(0);
    expect(gw.app.gateway.getSession(BOT.name, "dev-replay")).toBe(genuine);
    // the genuine phone is still connected and served
    phone.write(phone.analyzeLine({ text: "!ping" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    expect(genuine.isOpen).toBe(true);
    expect(phone.isClosed).toBe(false);
    expect(gw.app.gateway.metrics.takeovers.value).toBe(0);
    attacker.destroy();
    phone.destroy();
  });

  test("replays are rejected but do not close the genuine phone's connection", async () => {
    gw = await startTestGateway({ maxAuthFailures: 2 });
    const phone = await connected(gw.port, "dev-dup");
    const auth = signAuth(phone.id, freshTimestamp());
    for (let i = 0; i < 4; i++) phone.write(phone.analyzeLine({ text: "!echo dup" }, auth));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("dup");
    for (let i = 0; i < 3; i++) expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    phone.write(phone.analyzeLine({ text: "!ping" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_REPLAY")).toBe(3);
    expect(phone.isClosed).toBe(false);
    // counted every time, logged once: replays never close the connection, so a flood of them must not flood the log
    expect(gw.logs.filter((l) => l.includes('"auth failure"') && l.includes("AUTH_REPLAY"))).toHaveLength(1);
    phone.destroy();
  });

  test("an auth block of another device of the same bot is rejected on this session", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-a");
    const other = signAuth(identity("dev-b"), freshTimestamp());
    phone.write(phone.analyzeLine({ text: "!ping" }, other));
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_MISMATCH")).toBe(1);
    phone.destroy();
  });

  test("another device's block with deviceID edited to this device neither passes nor proves a takeover", async () => {
    gw = await startTestGateway();
    const victim = await connected(gw.port, "dev-a");
    const live = gw.app.gateway.getSession(BOT.name, "dev-a")!;
    // One block of dev-b (same bot) seen on the wire; deviceID is not signed, deviceUUID is.
    const seen = signAuth(identity("dev-b"), freshTimestamp());
    const impostor = await LegacyPhone.connect(gw.port, identity("dev-a", { secret: "not-the-secret" }));
    await impostor.handshake();
    const ping = await impostor.next((f) => f.event === "ping"); // the takeover challenge
    impostor.write(impostor.pingLine(ping.data.server_timestamp, undefined, { ...seen, deviceID: "dev-a" }));
    expect((await impostor.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_MISMATCH")).toBe(1);
    expect(gw.app.gateway.metrics.takeovers.value).toBe(0);
    expect(gw.app.gateway.getSession(BOT.name, "dev-a")).toBe(live);
    // The genuine phone still works.
    victim.write(victim.analyzeLine({ text: "!ping" }));
    expect((await victim.next((f) => f.event === "messageResponse")).data.text).toBeDefined();
    impostor.destroy();
    victim.destroy();
  });

  test("a phone that signs deviceUUID \"unknown\" (it could not read the id that way) is bound by its deviceID", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-a");
    phone.write(phone.analyzeLine({ text: "!ping" }, signAuth(identity("dev-a"), freshTimestamp(), { deviceUUID: "unknown" })));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBeDefined();
    const other = signAuth(identity("dev-b"), freshTimestamp(), { deviceUUID: "unknown" }); // deviceID dev-b
    phone.write(phone.analyzeLine({ text: "!ping" }, other));
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_MISMATCH")).toBe(1);
    phone.destroy();
  });

  test("a missing auth block fails", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-noauth");
    phone.write(JSON.stringify({ event: "analyze", data: { room: "r", text: "!ping", sender: "s" } }) + "\n");
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_MISSING")).toBe(1);
    phone.destroy();
  });

  test("after maxAuthFailures the connection is closed; other devices of the bot are untouched", async () => {
    gw = await startTestGateway({ maxAuthFailures: 3 });
    const good = await connected(gw.port, "dev-good");
    const bad = await connected(gw.port, "dev-bad");
    for (let i = 0; i < 3; i++) bad.write(bad.analyzeLine({ text: "!ping" }, signAuth({ ...bad.id, secret: "wrong-secret-wrong-secret" }, freshTimestamp())));
    await bad.waitClosed();
    expect(gw.app.gateway.metrics.connectionsClosed.get("auth_failures")).toBe(1);
    good.write(good.analyzeLine({ text: "!ping" }));
    expect((await good.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    expect((await gw.app.store.get(BOT.name, "dev-bad"))?.status).toBe("approved");
    good.destroy();
  });

  test("ping replies are verified, their RTT and monitoring stored", async () => {
    gw = await startTestGateway({ pingIntervalMs: 100, idleTimeoutMs: 5000 });
    const phone = await connected(gw.port, "dev-ping");
    const ping = await phone.next((f) => f.event === "ping", 3000);
    expect(ping.data.bot_name).toBe(BOT.name);
    expect(typeof ping.data.server_timestamp).toBe("number");
    const monitoring = { total_memory: 2048.0, memory_usage: 512.5, memory_percent: 25.0, message_queue_size: 5, active_rooms: 10 };
    phone.write(phone.pingLine(ping.data.server_timestamp, monitoring));
    const s = gw.app.gateway.getSession(BOT.name, "dev-ping")!;
    const deadline = Date.now() + 3000;
    let pings = await gw.app.store.listPings(BOT.name, "dev-ping", 10);
    while (pings.length === 0 && Date.now() < deadline) {
      await Bun.sleep(10);
      pings = await gw.app.store.listPings(BOT.name, "dev-ping", 10);
    }
    expect(pings).toHaveLength(1);
    expect(pings[0]!.monitoring).toEqual(monitoring);
    expect(pings[0]!.rttMs).toBeGreaterThanOrEqual(0);
    expect(s.lastMonitoring).toEqual(monitoring);
    expect(s.lastRttMs).not.toBeNull();
    expect(gw.app.gateway.metrics.pingRttMs.count).toBe(1);
    phone.destroy();
  });
});
