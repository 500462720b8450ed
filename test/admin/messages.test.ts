import { describe, expect, test } from "bun:test";
import { BOT, startTestGateway, until } from "../support/harness.ts";
import type { Frame } from "../support/phone.ts";
import { adminFor, call, phoneOn, perTest } from "./helpers.ts";

const fx = perTest();

async function setup(raw: Record<string, unknown> = {}) {
  fx.gw = await startTestGateway({ pipeline: { replyGapMs: 0 }, ...raw });
  return adminFor(fx.gw);
}

async function connect(device: string) {
  const { phone } = await phoneOn(fx.gw!.port, device);
  fx.phones.push(phone);
  return phone;
}

const isReply = (f: Frame) => f.event === "messageResponse";

describe("POST /api/messages", () => {
  test("pushes a text into a room through the chosen device", async () => {
    const app = await setup();
    const a = await connect("dev-a");
    const b = await connect("dev-b");
    const r = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "공지방", channelId: "18294870190341", text: "점검 안내 🔧", device: "dev-b" });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 1, device: "dev-b", room: "공지방" });
    const f = await b.next(isReply);
    expect(f.data).toEqual({ room: "공지방", text: "점검 안내 🔧", channel_id: "18294870190341" });
    expect(a.frames.some(isReply)).toBe(false);
  });

  test("without a device, any connected approved device of the bot is used", async () => {
    const app = await setup();
    const a = await connect("dev-a");
    const r = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "r", text: "hi" });
    expect(r.json.device).toBe("dev-a");
    expect((await a.next(isReply)).data).toEqual({ room: "r", text: "hi", channel_id: null });
    // null means "not given" for every optional field, mediaWaitTime included
    const n = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "r", text: "again", device: null, channelId: null, mediaWaitTime: null });
    expect(n.status).toBe(202);
    expect((await a.next(isReply)).data).toEqual({ room: "r", text: "again", channel_id: null });
  });

  test("texts become separate messageResponse lines, in order, pipeline.replyGapMs apart", async () => {
    const app = await setup({ pipeline: { replyGapMs: 60 } });
    const a = await connect("dev-a");
    const t0 = Date.now();
    const r = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "r", texts: ["one", "two", "three"], mediaWaitTime: 1500 });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 3, gapMs: 60 });
    const got: Array<{ text: string; at: number }> = [];
    for (let i = 0; i < 3; i++) {
      const f = await a.next(isReply);
      expect(f.data.media_wait_time).toBe(1500);
      got.push({ text: f.data.text, at: Date.now() - t0 });
    }
    expect(got.map((g) => g.text)).toEqual(["one", "two", "three"]);
    expect(got[2]!.at).toBeGreaterThanOrEqual(110);
  });

  test("texts still waiting for their gap when the session ends are dropped, not sent to the device's next connection", async () => {
    const app = await setup({ pipeline: { replyGapMs: 1000 } });
    const a = await connect("dev-a");
    const r = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "공지방", texts: ["하나", "둘 ✌️", "셋"] });
    expect(r.status).toBe(202);
    expect((await a.next(isReply)).data.text).toBe("하나");
    a.destroy();
    const again = await connect("dev-a"); // the same device, a new session, before the gap is due
    const replies = () => fx.gw!.app.gateway.dispatcher!.stats().replies;
    expect(replies().pending).toBe(2); // the new session is open while both texts still wait
    await until(() => replies().discarded === 2, 3000, "the two waiting texts dropped");
    expect(replies()).toMatchObject({ sent: 1, discarded: 2, pending: 0 });
    expect(again.frames.some(isReply)).toBe(false);
  });

  test("a push whose first text is refused (409) sends nothing else, with or without gaps", async () => {
    for (const replyGapMs of [50, 0]) {
      const app = await setup({ outboundCapBytes: 65_536, pipeline: { replyGapMs } });
      const a = await connect("dev-a");
      const r = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "공지방", texts: ["가".repeat(30_000), "둘째", "셋째"] });
      expect(r.status).toBe(409);
      expect(r.json.error.code).toBe("NO_DEVICE");
      // Nothing was scheduled, so nothing can come later: the counters say so at once.
      expect(fx.gw!.app.gateway.dispatcher!.stats().replies).toMatchObject({ sent: 0, undeliverable: 1, pending: 0 });
      const ok = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "공지방", text: "다음 것 🙂" });
      expect(ok.status).toBe(202);
      expect((await a.next(isReply)).data.text).toBe("다음 것 🙂"); // the first reply the phone sees
      a.destroy();
      fx.phones.length = 0;
      await fx.gw!.stop();
    }
  });

  test("texts still waiting for their gap go out during the shutdown drain, before the goodbye", async () => {
    const app = await setup({ pipeline: { replyGapMs: 50 } });
    const a = await connect("dev-a");
    const r = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "공지방", texts: ["점검 시작 🔧", "곧 끝나요", "끝 🎉"] });
    expect(r.status).toBe(202);
    const stopped = fx.gw!.app.stop();
    await a.waitClosed(5000);
    await stopped;
    const got = a.frames.filter((f) => isReply(f) || f.event === "error");
    expect(got.map((f) => (isReply(f) ? f.data.text : f.data.code))).toEqual(["점검 시작 🔧", "곧 끝나요", "끝 🎉", "SERVER_SHUTDOWN"]);
  });

  test("a push addressed by channelId goes to the room last seen for that channel", async () => {
    const app = await setup();
    const a = await connect("dev-a");
    a.write(a.analyzeLine({ room: "알림방", channelId: "777", text: "!ping" }));
    await a.next(isReply); // pong: the gateway has seen the channel
    const r = await call(app, "POST", "/api/messages", { bot: BOT.name, channelId: "777", text: "by channel" });
    expect(r.status).toBe(202);
    expect((await a.next(isReply)).data).toEqual({ room: "알림방", text: "by channel", channel_id: "777" });
    const unknown = await call(app, "POST", "/api/messages", { bot: BOT.name, channelId: "888", text: "x" });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toContain("give room");
  });

  test("409 NO_DEVICE with the reason when no suitable device is connected", async () => {
    const app = await setup({ bots: [{ ...BOT, autoApprove: false }] });
    const none = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "r", text: "x" });
    expect(none.status).toBe(409);
    expect(none.json.error).toMatchObject({ code: "NO_DEVICE" });
    expect(none.json.error.message).toContain("no connected, approved device");
    const pending = await connect("dev-p");
    const r = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "r", text: "x", device: "dev-p" });
    expect(r.status).toBe(409);
    expect(r.json.error.message).toContain("pending");
    expect((await call(app, "POST", "/api/messages", { bot: BOT.name, room: "r", text: "x", device: "gone" })).json.error.message).toContain("not connected");
    expect(pending.frames.some(isReply)).toBe(false);
  });

  test("unknown bot is 404; a shutting-down gateway answers 503", async () => {
    const app = await setup();
    await connect("dev-a");
    const r = await call(app, "POST", "/api/messages", { bot: "NoSuchBot", room: "r", text: "x" });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("UNKNOWN_BOT");
    const stopping = fx.gw!.app.stop();
    const s = await call(app, "POST", "/api/messages", { bot: BOT.name, room: "r", text: "x" });
    expect(s.status).toBe(503);
    expect(s.json.error.code).toBe("SHUTTING_DOWN");
    await stopping;
  });

  test("invalid bodies are 400 with field errors", async () => {
    const app = await setup();
    const cases: Array<[unknown, string]> = [
      [{ room: "r", text: "x" }, "bot"],
      [{ bot: BOT.name, text: "x" }, "room"],
      [{ bot: BOT.name, room: "r" }, "text"],
      [{ bot: BOT.name, room: "r", text: "" }, "text"],
      [{ bot: BOT.name, room: "r", text: "a", texts: ["b"] }, "text"],
      [{ bot: BOT.name, room: "r", texts: [] }, "texts"],
      [{ bot: BOT.name, room: "r", texts: Array(21).fill("x") }, "texts"],
      [{ bot: BOT.name, room: "r", texts: ["ok", 3] }, "texts[1]"],
      [{ bot: BOT.name, channelId: 18294870190341, text: "x" }, "channelId"],
      [{ bot: BOT.name, room: "r", text: "x".repeat(65_001) }, "text"],
      [{ bot: BOT.name, room: "r", text: "x", mediaWaitTime: -1 }, "mediaWaitTime"],
      [{ bot: BOT.name, room: "r", text: "x", mediaWaitTime: "3000" }, "mediaWaitTime"], // a JSON number, not a string
      [{ bot: BOT.name, room: "r", text: "x", mediaWaitTime: "" }, "mediaWaitTime"],
      [{ bot: BOT.name, room: "r", text: "😀".repeat(32_501) }, "text"], // 65,002 UTF-16 units: the phone's measure
      [{ bot: BOT.name, room: "r", text: "x", extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      const r = await call(app, "POST", "/api/messages", body);
      expect(r.status).toBe(400);
      expect(r.json.error.fields.map((f: any) => f.path)).toContain(field);
    }
    expect((await call(app, "POST", "/api/messages", "not json")).json.error.code).toBe("INVALID_JSON");
  });
});
