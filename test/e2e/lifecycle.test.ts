import { afterEach, describe, expect, test } from "bun:test";
import { LegacyPhone } from "../support/phone.ts";
import { BOT, identity, startTestGateway, type TestGateway, until, connected } from "../support/harness.ts";

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

function liveResources(g: TestGateway) {
  const c = g.app.gateway.tracker.counts();
  // The gateway's own intervals (replay-prune, leak sweep, loop-lag) live as long as it does.
  const own = g.app.gateway.tracker.list(Number.MAX_SAFE_INTEGER).filter((e) => e.owner === "gateway" && e.kind === "interval").length;
  return { sessions: c.session, sockets: c.socket, timers: c.timer, intervals: c.interval - own, jobs: c.job };
}

describe("session lifecycle", () => {
  test("a new connection for the same device takes over once it proves the secret; the old one is closed", async () => {
    gw = await startTestGateway();
    const first = await connected(gw.port, "dev-t");
    const second = await connected(gw.port, "dev-t");
    // the newcomer is challenged at once with a ping; its signed answer proves it
    const challenge = await second.next((f) => f.event === "ping");
    expect(first.isClosed).toBe(false);
    second.write(second.pingLine(challenge.data.server_timestamp));
    await first.waitClosed();
    expect(gw.app.gateway.metrics.takeovers.value).toBe(1);
    expect(gw.app.gateway.sessions.size).toBe(1);
    // the proof ended the newcomer's proof deadline: it holds what any phone holds (socket + heartbeat)
    await until(() => gw!.app.gateway.tracker.counts().session === 1, 3000, "the old session released");
    expect(liveResources(gw)).toEqual({ sessions: 1, sockets: 1, timers: 0, intervals: 1, jobs: 0 });
    second.write(second.analyzeLine({ text: "!ping" }));
    expect((await second.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    expect(gw.app.gateway.metrics.connectionsClosed.get("takeover")).toBe(1);
    second.destroy();
  });

  test("a signed chat message from the newcomer also completes the takeover; its handshake fields are recorded then", async () => {
    gw = await startTestGateway();
    const first = await connected(gw.port, "dev-t2");
    const second = await connected(gw.port, "dev-t2", { version: "3.2.2" });
    expect((await gw.app.gateway.store.get(BOT.name, "dev-t2"))!.clientVersion).toBe("3.2.1"); // not before the proof
    second.write(second.analyzeLine({ text: "!echo 새 연결" }));
    expect((await second.next((f) => f.event === "messageResponse")).data.text).toBe("새 연결");
    await first.waitClosed();
    await until(async () => (await gw!.app.gateway.store.get(BOT.name, "dev-t2"))!.clientVersion === "3.2.2", 3000, "the proven newcomer's fields written");
    second.destroy();
  });

  test("shutdown waits for a proven newcomer's handshake fields to be written", async () => {
    gw = await startTestGateway();
    const g = gw.app.gateway;
    const first = await connected(gw.port, "dev-sd");
    const second = await connected(gw.port, "dev-sd", { version: "3.2.2" });
    const challenge = await second.next((f) => f.event === "ping");
    // from now on the store holds writes until released: the deferred write is the only one
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const upsert = g.store.upsertOnHandshake.bind(g.store);
    g.store.upsertOnHandshake = async (...args) => {
      await held;
      return upsert(...args);
    };
    second.write(second.pingLine(challenge.data.server_timestamp)); // the proof: the fields write starts, held
    await first.waitClosed();
    let pingWriterClosed = false;
    const closeWriter = g.pingWriter.close.bind(g.pingWriter);
    g.pingWriter.close = async () => {
      await closeWriter();
      pingWriterClosed = true;
    };
    let done = false;
    const shutdown = g.shutdown(2000).then(() => (done = true));
    await until(() => pingWriterClosed, 5000, "the ping writer closed by shutdown");
    await new Promise((r) => setTimeout(r, 0)); // every microtask of the shutdown has run
    expect(done).toBe(false); // still waiting for the held write
    release();
    await shutdown;
    expect((await g.store.get(BOT.name, "dev-sd"))!.clientVersion).toBe("3.2.2");
    second.destroy();
  });

  test("an impostor who knows only the device id cannot hijack a live session", async () => {
    gw = await startTestGateway({ handshakeTimeoutMs: 300 });
    const phone = await connected(gw.port, "dev-victim");
    const impostor = await LegacyPhone.connect(gw.port, identity("dev-victim", { secret: "guessed-secret-guessed-secret", version: "6.6.6" }));
    expect((await impostor.handshake()).data.success).toBe(true);
    const challenge = await impostor.next((f) => f.event === "ping");
    impostor.write(impostor.pingLine(challenge.data.server_timestamp)); // wrong secret
    expect((await impostor.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    await impostor.waitClosed(3000); // proof deadline
    expect(gw.app.gateway.metrics.connectionsClosed.get("takeover_unproven")).toBe(1);
    expect(gw.app.gateway.metrics.takeovers.value).toBe(0);
    // the impostor's unsigned handshake fields never reached the device's record
    expect((await gw.app.gateway.store.get(BOT.name, "dev-victim"))!.clientVersion).toBe("3.2.1");
    phone.write(phone.analyzeLine({ text: "!ping" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    phone.destroy();
  });

  test("no inbound traffic for the idle timeout closes the session", async () => {
    gw = await startTestGateway({ pingIntervalMs: 100, idleTimeoutMs: 300 });
    const phone = await connected(gw.port, "dev-idle");
    await phone.next((f) => f.event === "ping", 2000); // the server pings ...
    await phone.waitClosed(3000); // ... the phone never answers
    expect(gw.app.gateway.metrics.connectionsClosed.get("idle")).toBe(1);
  });

  test("a wall-clock jump forward does not close sessions as idle (deadlines are monotonic)", async () => {
    gw = await startTestGateway({ pingIntervalMs: 100, idleTimeoutMs: 1000 });
    const phone = await connected(gw.port, "dev-clock");
    const realNow = Date.now;
    try {
      Date.now = () => realNow() + 61_000; // e.g. NTP stepping a VM's clock after a pause
      // two heartbeats after the jump: the server keeps pinging instead of closing the phone as idle
      await phone.next((f) => f.event === "ping" && f.data.server_timestamp > realNow() + 60_000, 2000);
      await phone.next((f) => f.event === "ping" && f.data.server_timestamp > realNow() + 60_000, 2000);
      expect(phone.isClosed).toBe(false);
      expect(gw.app.gateway.metrics.connectionsClosed.get("idle")).toBe(0);
    } finally {
      Date.now = realNow;
    }
    phone.destroy();
  });

  test("answered pings keep a session alive past the idle timeout", async () => {
    gw = await startTestGateway({ pingIntervalMs: 80, idleTimeoutMs: 250 });
    const phone = await connected(gw.port, "dev-alive");
    for (let i = 0; i < 8; i++) {
      const p = await phone.next((f) => f.event === "ping", 2000);
      phone.write(phone.pingLine(p.data.server_timestamp));
    }
    expect(phone.isClosed).toBe(false);
    expect(gw.app.gateway.sessions.size).toBe(1);
    // an idle phone's pings are verified from the whole signed string: no prefix state kept for it
    expect(gw.app.gateway.metrics.authFailures.total()).toBe(0);
    expect(gw.app.gateway.auth.prefixStates).toBe(0);
    phone.write(phone.analyzeLine({ text: "!ping" }));
    await phone.next((f) => f.event === "messageResponse");
    expect(gw.app.gateway.auth.prefixStates).toBe(1); // a chatting phone gets one
    phone.destroy();
  });

  test("oversize line: LINE_TOO_LONG, then the session keeps working", async () => {
    gw = await startTestGateway({ maxLineBytes: 4096 });
    const phone = await connected(gw.port, "dev-big");
    phone.write(phone.analyzeLine({ text: "가".repeat(10_000) }));
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("LINE_TOO_LONG");
    phone.write(phone.analyzeLine({ text: "!echo 여전히 살아있음" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("여전히 살아있음");
    phone.destroy();
  });

  test("a ~70 KB chat line (phone's 65,000-char cap) is accepted by default", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-70k");
    const text = "!echo " + "a".repeat(65_000 - 6);
    phone.write(phone.analyzeLine({ text }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text.length).toBe(65_000 - 6);
    phone.destroy();
  });

  test("invalid JSON and invalid UTF-8 get clear errors; the session survives", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-garbage");
    phone.write("{not json\n");
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("INVALID_JSON");
    phone.write(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]));
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("INVALID_UTF8");
    phone.write('[1,2,3]\n{"event":"nope","data":{}}\n');
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("INVALID_JSON");
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("UNKNOWN_EVENT");
    phone.write(phone.analyzeLine({ text: "!ping" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    phone.destroy();
  });

  test("a peer that stops reading is closed as a slow consumer; others are unaffected", async () => {
    gw = await startTestGateway({ outboundCapBytes: 64 * 1024 });
    const other = await connected(gw.port, "dev-other");
    const slow = await connected(gw.port, "dev-slow");
    slow.pauseReading();
    const big = "!echo " + "x".repeat(60_000);
    for (let i = 0; i < 400 && !slow.isClosed; i++) slow.write(slow.analyzeLine({ text: big }));
    await slow.waitClosed(15_000);
    expect(gw.app.gateway.metrics.connectionsClosed.get("slow_consumer")).toBe(1);
    other.write(other.analyzeLine({ text: "!ping" }));
    expect((await other.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    other.destroy();
  });

  test("below the cap, a briefly paused reader loses nothing and order is kept", async () => {
    gw = await startTestGateway();
    const phone = await connected(gw.port, "dev-order");
    phone.pauseReading();
    const n = 300;
    const pad = "y".repeat(2000);
    for (let i = 0; i < n; i++) phone.write(phone.analyzeLine({ text: `!echo ${i} ${pad}` }));
    await until(() => gw!.app.gateway.metrics.messagesOut.get("messageResponse") >= n, 10_000, "all replies queued");
    phone.resumeReading(); // every reply arrives, in order
    const got: number[] = [];
    for (let i = 0; i < n; i++) got.push(Number((await phone.next((f) => f.event === "messageResponse", 10_000)).data.text.split(" ")[0]));
    expect(got).toEqual([...Array(n).keys()]);
    phone.destroy();
  });

  test("every timer, socket and session is released however sessions end", async () => {
    gw = await startTestGateway({ pingIntervalMs: 100, idleTimeoutMs: 300, handshakeTimeoutMs: 300 });
    const phones: LegacyPhone[] = [];
    const fin = await connected(gw.port, "end-fin");
    const rst = await connected(gw.port, "end-rst");
    const idle = await connected(gw.port, "end-idle");
    const taken = await connected(gw.port, "end-take");
    const taker = await connected(gw.port, "end-take");
    taker.write(taker.pingLine((await taker.next((f) => f.event === "ping")).data.server_timestamp));
    const silent = await LegacyPhone.connect(gw.port, identity("end-silent"));
    const kicked = await connected(gw.port, "end-kick");
    phones.push(fin, rst, idle, taken, taker, silent, kicked);
    expect(liveResources(gw).sessions).toBeGreaterThanOrEqual(6);
    fin.end();
    rst.reset();
    gw.app.gateway.kick(BOT.name, "end-kick", "test");
    await Promise.all([fin.waitClosed(), rst.closed, idle.waitClosed(), taken.waitClosed(), silent.waitClosed(), kicked.waitClosed()]);
    taker.destroy();
    await until(() => gw!.app.gateway.connections.size === 0, 5000, "all sessions closed");
    expect(liveResources(gw)).toEqual({ sessions: 0, sockets: 0, timers: 0, intervals: 0, jobs: 0 });
    expect(gw.app.gateway.tracker.sweep()).toEqual([]);
  });

  test("shutdown closes every session and resolves", async () => {
    gw = await startTestGateway();
    const a = await connected(gw.port, "sd-a");
    const b = await connected(gw.port, "sd-b");
    await gw.stop();
    await Promise.all([a.waitClosed(), b.waitClosed()]);
    expect(gw.app.gateway.connections.size).toBe(0);
    // nothing outlives shutdown, not even the gateway's own timers
    expect(gw.app.gateway.tracker.list()).toEqual([]);
    gw = null;
  });
});
