import { afterEach, describe, expect, test } from "bun:test";
import { LegacyPhone } from "../support/phone.ts";
import { BOT, identity, startTestGateway, type TestGateway } from "../support/harness.ts";

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

describe("handshake and chat over a real socket", () => {
  test("handshake answers handshakeComplete and the example bot replies to !ping", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("dev-1"));
    const hc = await phone.handshake();
    expect(hc).toEqual({ event: "handshakeComplete", data: { success: true, approved: true, message: "device approved", server_version: "1.0.0" } });
    phone.write(phone.analyzeLine({ room: "로아 단톡방", text: "!ping", channelId: "18294870190341" }));
    const reply = await phone.next((f) => f.event === "messageResponse");
    expect(reply).toEqual({ event: "messageResponse", data: { room: "로아 단톡방", text: "pong!", channel_id: "18294870190341" } });
    const dev = await gw.app.store.get(BOT.name, "dev-1");
    expect(dev?.status).toBe("approved");
    expect(dev?.clientVersion).toBe("3.2.1");
    expect(dev?.clientInfo).toBe("samsung SM-G991N (Android 13, API 33)");
    phone.destroy();
  });

  test("Korean and emoji round-trip through !echo", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("dev-ko"));
    await phone.handshake();
    phone.write(phone.analyzeLine({ text: "!echo 안녕하세요 🎉👍🏽 카톡봇" }));
    const reply = await phone.next((f) => f.event === "messageResponse");
    expect(reply.data.text).toBe("안녕하세요 🎉👍🏽 카톡봇");
    expect(reply.data.room).toBe("테스트방");
    phone.destroy();
  });

  test("a v3.1.x handshake with only botName, version, deviceID is accepted", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("old-phone"));
    phone.write(JSON.stringify({ botName: BOT.name, version: "3.1.4", deviceID: "old-phone" }) + "\n");
    const hc = await phone.next((f) => f.event === "handshakeComplete");
    expect(hc.data.success).toBe(true);
    const dev = await gw.app.store.get(BOT.name, "old-phone");
    expect(dev?.clientType).toBe("MessengerBotR");
    expect(dev?.clientInfo).toBeNull();
    phone.destroy();
  });

  test("handshake and analyze lines in ONE chunk are all handled, in order", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("dev-chunk"));
    const lines = [phone.handshakeLine()];
    for (let i = 0; i < 5; i++) lines.push(phone.analyzeLine({ text: `!echo 메시지 ${i}` }));
    phone.write(lines.join(""));
    const hc = await phone.next((f) => f.event === "handshakeComplete");
    expect(hc.data.success).toBe(true);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await phone.next((f) => f.event === "messageResponse")).data.text);
    expect(got).toEqual([0, 1, 2, 3, 4].map((i) => `메시지 ${i}`));
    phone.destroy();
  });

  test("byte-by-byte chunks (CRLF endings) still frame correctly", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("dev-bytes"));
    const text = (phone.handshakeLine() + phone.analyzeLine({ text: "!echo 한 글자씩 ✨" })).replace(/\n/g, "\r\n");
    const bytes = new TextEncoder().encode(text);
    for (const b of bytes) phone.write(new Uint8Array([b]));
    expect((await phone.next((f) => f.event === "handshakeComplete")).data.success).toBe(true);
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("한 글자씩 ✨");
    phone.destroy();
  });

  test("unknown bot is refused with an error event and handshakeComplete success:false, then closed", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("dev-x", { botName: "NoSuchBot" }));
    phone.write(phone.handshakeLine());
    const err = await phone.next((f) => f.event === "error");
    expect(err.data.code).toBe("UNKNOWN_BOT");
    expect(typeof err.data.timestamp).toBe("number");
    const hc = await phone.next((f) => f.event === "handshakeComplete");
    expect(hc.data.success).toBe(false);
    await phone.waitClosed();
  });

  test("a refused phone retrying is counted every time but logged once a minute", async () => {
    gw = await startTestGateway();
    for (let i = 0; i < 3; i++) {
      const phone = await LegacyPhone.connect(gw.port, identity("dev-retry", { botName: "NoSuchBot" }));
      phone.write(phone.handshakeLine());
      await phone.waitClosed();
    }
    expect(gw.app.gateway.metrics.handshakesFailed.get("unknown_bot")).toBe(3);
    expect(gw.logs.filter((l) => l.includes('"handshake refused"'))).toHaveLength(1);
  });

  test("deviceID \"unknown\" is refused unless allowed", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("unknown"));
    phone.write(phone.handshakeLine());
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("DEVICE_ID_UNKNOWN");
    await phone.waitClosed();
    await gw.stop();
    gw = await startTestGateway({ allowUnknownDeviceId: true });
    const allowed = await LegacyPhone.connect(gw.port, identity("unknown"));
    expect((await allowed.handshake()).data.success).toBe(true);
    allowed.write(allowed.analyzeLine({ text: "!ping" }));
    expect((await allowed.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    allowed.destroy();
  });

  test("a pending device stays connected but its messages do not reach the bot", async () => {
    gw = await startTestGateway({ bots: [{ ...BOT, autoApprove: false }] });
    const phone = await LegacyPhone.connect(gw.port, identity("dev-pending"));
    const hc = await phone.handshake();
    expect(hc.data).toEqual({ success: true, approved: false, message: "device registered, waiting for approval", server_version: "1.0.0" });
    phone.write(phone.analyzeLine({ text: "!ping" }));
    const err = await phone.next((f) => f.event === "error");
    expect(err.data.code).toBe("DEVICE_NOT_APPROVED");
    expect(gw.app.gateway.metrics.droppedNotApproved.value).toBe(1);
    // approval applies to the live session at once
    await gw.app.store.setStatus(BOT.name, "dev-pending", "approved");
    gw.app.gateway.applyDeviceStatus(BOT.name, "dev-pending", "approved");
    phone.write(phone.analyzeLine({ text: "!echo after approval" }));
    // The first reply is the one to the message sent after approval: the refused "!ping" never ran.
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("after approval");
    expect(phone.frames.filter((f) => f.event === "messageResponse")).toHaveLength(0);
    phone.destroy();
  });

  for (const status of ["blocked", "denied", "revoked"] as const) {
    test(`a ${status} device is refused at handshake`, async () => {
      gw = await startTestGateway();
      await gw.app.store.upsertOnHandshake({ botName: BOT.name, deviceId: `dev-${status}`, ipAddress: null, clientType: "MessengerBotR", clientVersion: "3.2.1", clientInfo: null }, status);
      const phone = await LegacyPhone.connect(gw.port, identity(`dev-${status}`));
      phone.write(phone.handshakeLine());
      expect((await phone.next((f) => f.event === "error")).data.code).toBe("DEVICE_BLOCKED");
      expect((await phone.next((f) => f.event === "handshakeComplete")).data.success).toBe(false);
      await phone.waitClosed();
      expect(gw.app.gateway.metrics.handshakesFailed.get(`device_${status}`)).toBe(1);
    });
  }

  test("fields the store refuses are refused the same way when the device already has a live session (takeover path)", async () => {
    gw = await startTestGateway();
    const live = await LegacyPhone.connect(gw.port, identity("dev-live"));
    await live.handshake();
    const newcomer = await LegacyPhone.connect(gw.port, identity("dev-live", { version: "3.2.1\u0000x" }));
    newcomer.write(newcomer.handshakeLine());
    expect((await newcomer.next((f) => f.event === "error")).data.code).toBe("HANDSHAKE_INVALID");
    expect((await newcomer.next((f) => f.event === "handshakeComplete")).data.success).toBe(false);
    await newcomer.waitClosed();
    expect(gw.app.gateway.metrics.handshakesFailed.get("handshake_invalid")).toBe(1);
    live.destroy();
  });

  test("a device id the store refuses (surrounding spaces) is refused as an invalid handshake, not a store outage", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("dev-2 "));
    phone.write(phone.handshakeLine());
    const err = await phone.next((f) => f.event === "error");
    expect(err.data.code).toBe("HANDSHAKE_INVALID");
    expect(err.data.message).toBe("deviceId must not start or end with whitespace");
    expect((await phone.next((f) => f.event === "handshakeComplete")).data.success).toBe(false);
    await phone.waitClosed();
    expect(gw.app.gateway.metrics.handshakesFailed.get("handshake_invalid")).toBe(1);
    expect(gw.app.gateway.metrics.handshakesFailed.get("store_unavailable")).toBe(0);
    expect(gw.logs.filter((l) => l.includes('"device store failed during handshake"'))).toHaveLength(0);
  });

  test("store failure at handshake fails closed", async () => {
    gw = await startTestGateway();
    await gw.app.store.close(); // every query now throws StoreError
    const phone = await LegacyPhone.connect(gw.port, identity("dev-store"));
    phone.write(phone.handshakeLine());
    const err = await phone.next((f) => f.event === "error");
    expect(err.data.code).toBe("SERVER_ERROR");
    expect((await phone.next((f) => f.event === "handshakeComplete")).data).toMatchObject({ success: false, approved: false });
    await phone.waitClosed();
    expect(gw.app.gateway.sessions.size).toBe(0);
  });

  test("a store that fails after the handshake deadline: counted and answered once, as a timeout", async () => {
    gw = await startTestGateway({ handshakeTimeoutMs: 150 });
    const store = gw.app.gateway.store;
    let fail!: () => void;
    let failed!: () => void;
    const settled = new Promise<void>((r) => (failed = r));
    store.upsertOnHandshake = () =>
      new Promise((_, reject) => {
        fail = () => {
          reject(new Error("connection reset by the database"));
          failed();
        };
      });
    const phone = await LegacyPhone.connect(gw.port, identity("dev-late"));
    phone.write(phone.handshakeLine());
    expect((await phone.next((f) => f.event === "error", 3000)).data.code).toBe("HANDSHAKE_TIMEOUT");
    await phone.waitClosed();
    fail();
    await settled;
    await new Promise((r) => setTimeout(r, 0)); // the gateway's continuation runs after the rejection's microtasks
    const failedBy = gw.app.gateway.metrics.handshakesFailed;
    expect([failedBy.get("timeout"), failedBy.get("store_unavailable")]).toEqual([1, 0]);
    expect(gw.logs.some((l) => l.includes("device store failed during handshake"))).toBe(true); // still logged
  });

  test("handshake timeout closes a silent connection", async () => {
    gw = await startTestGateway({ handshakeTimeoutMs: 150 });
    const phone = await LegacyPhone.connect(gw.port, identity("dev-silent"));
    const err = await phone.next((f) => f.event === "error", 3000);
    expect(err.data.code).toBe("HANDSHAKE_TIMEOUT");
    await phone.waitClosed();
    expect(gw.app.gateway.metrics.connectionsClosed.get("handshake_timeout")).toBe(1);
  });

  test("an invalid first line is refused", async () => {
    gw = await startTestGateway();
    const phone = await LegacyPhone.connect(gw.port, identity("dev-bad"));
    phone.write(JSON.stringify({ botName: BOT.name, version: "3.2.1" }) + "\n");
    const err = await phone.next((f) => f.event === "error");
    expect(err.data.code).toBe("HANDSHAKE_INVALID");
    expect(err.data.message).toContain("deviceID");
    await phone.waitClosed();
  });
});
