import { afterEach, describe, expect, test } from "bun:test";
import { LegacyPhone } from "../support/phone.ts";
import { BOT, identity, startTestGateway, type TestGateway, until, connected } from "../support/harness.ts";
import { deviceKey } from "../../src/store/retention.ts";

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

const origin = (deviceId: string) => ({ botName: BOT.name, deviceId, room: "공지방", channelId: "42", key: deviceKey(BOT.name, deviceId) });

describe("reply routing", () => {
  test("a reply goes to the origin device only, never to another device by default", async () => {
    gw = await startTestGateway();
    const a = await connected(gw.port, "route-a");
    const b = await connected(gw.port, "route-b");
    expect(gw.app.gateway.deliver(origin("route-a"), ["에이에게"])).toBe(true);
    expect((await a.next((f) => f.event === "messageResponse")).data).toEqual({ room: "공지방", text: "에이에게", channel_id: "42" });
    a.destroy();
    await a.closed;
    await until(() => !gw!.app.gateway.getSession(BOT.name, "route-a"), 5000, "session gone");
    expect(gw.app.gateway.deliver(origin("route-a"), ["갈 곳 없음"])).toBe(false);
    b.write(b.analyzeLine({ text: "!ping" }));
    expect((await b.next((f) => f.event === "messageResponse")).data.text).toBe("pong!"); // b got only its own reply
    expect(b.frames.filter((f) => f.event === "messageResponse")).toEqual([]);
    b.destroy();
  });

  test("with replyFallback, a reply whose device is gone goes through another approved device", async () => {
    gw = await startTestGateway({ bots: [{ ...BOT, autoApprove: true, replyFallback: true }] });
    const a = await connected(gw.port, "fb-a");
    const b = await connected(gw.port, "fb-b");
    a.destroy();
    await a.closed;
    await until(() => !gw!.app.gateway.getSession(BOT.name, "fb-a"), 5000, "session gone");
    expect(gw.app.gateway.deliver(origin("fb-a"), ["대신 전달"])).toBe(true);
    expect((await b.next((f) => f.event === "messageResponse")).data.text).toBe("대신 전달");
    b.destroy();
  });

  test("a reply follows the device to its new connection (device key, not socket)", async () => {
    gw = await startTestGateway();
    const old = await connected(gw.port, "move");
    old.destroy();
    await old.closed;
    const fresh = await connected(gw.port, "move");
    expect(gw.app.gateway.deliver(origin("move"), ["새 연결로"])).toBe(true);
    expect((await fresh.next((f) => f.event === "messageResponse")).data.text).toBe("새 연결로");
    fresh.destroy();
  });
});
