import { afterEach, describe, expect, test } from "bun:test";
import { blocked } from "../pipeline/fixtures/test-bot.ts";
import { LegacyPhone } from "../support/phone.ts";
import { BOT, identity, startTestGateway, type TestGateway, until } from "../support/harness.ts";

let gw: TestGateway | null = null;
let server: ReturnType<typeof Bun.serve> | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
  server?.stop(true);
  server = null;
});

const TEST_BOT = "test/pipeline/fixtures/test-bot.ts";

async function start(pipeline: Record<string, unknown>, bot: Record<string, unknown> = { handler: TEST_BOT }) {
  gw = await startTestGateway({ pipeline, bots: [{ ...BOT, autoApprove: true, ...bot }] });
  const phone = await LegacyPhone.connect(gw.port, identity("dev-pipe"));
  await phone.handshake();
  return { phone, g: gw };
}

const reply = (f: { event?: string }) => f.event === "messageResponse";

describe("pipeline through the gateway", () => {
  test("a hanging handler times out without holding up the phone's next message", async () => {
    const { phone, g } = await start({ workers: 1, jobTimeoutMs: 100 });
    phone.write(phone.analyzeLine({ text: "!hang" }));
    phone.write(phone.analyzeLine({ text: "after" }));
    expect((await phone.next(reply, 3000)).data.text).toBe("echo:after");
    const s = g.app.gateway.dispatcher!.stats();
    expect(s.timeouts).toBe(1);
    expect(s.zombies.count).toBe(1);
    phone.write(phone.analyzeLine({ text: "!throw" }));
    phone.write(phone.analyzeLine({ text: "still here" }));
    expect((await phone.next(reply, 3000)).data.text).toBe("echo:still here");
    expect(g.app.gateway.dispatcher!.stats().failures).toEqual({ HANDLER_FAILED: 1 });
    phone.destroy();
  });

  test("a list reply arrives as separate messageResponse lines, replyGapMs apart, to the same room and channel", async () => {
    const { phone } = await start({ replyGapMs: 40 });
    phone.write(phone.analyzeLine({ text: "!list", room: "방 이름", channelId: "555" }));
    const got = [];
    for (let i = 0; i < 3; i++) got.push({ f: await phone.next(reply, 3000), at: performance.now() });
    expect(got.map((x) => x.f.data.text)).toEqual(["one", "two", "three"]);
    expect(got.every((x) => x.f.data.room === "방 이름" && x.f.data.channel_id === "555")).toBe(true);
    expect(got[2]!.at - got[0]!.at).toBeGreaterThanOrEqual(70);
    phone.destroy();
  });

  test("a message re-sent with the same logId (after a reconnect) is answered once", async () => {
    const { phone, g } = await start({});
    phone.write(phone.analyzeLine({ text: "once", logId: "9000000000000001" }));
    expect((await phone.next(reply)).data.text).toBe("echo:once");
    phone.destroy();
    const again = await LegacyPhone.connect(g.port, identity("dev-pipe"));
    await again.handshake();
    again.write(again.analyzeLine({ text: "once", logId: "9000000000000001" }));
    again.write(again.analyzeLine({ text: "fresh", logId: "9000000000000002" }));
    expect((await again.next(reply)).data.text).toBe("echo:fresh");
    expect(again.frames.filter(reply)).toEqual([]);
    expect(g.app.gateway.dispatcher!.stats().dropped.duplicate).toBe(1);
    again.destroy();
  });

  test("queue full: the phone of the dropped message gets an error event QUEUE_FULL", async () => {
    const { phone, g } = await start({ workers: 1, queueSize: 1 });
    phone.write(phone.analyzeLine({ text: "!block" }));
    await until(() => blocked.length === 1, 3000, "the blocking job");
    phone.write(phone.analyzeLine({ text: "dropped" }));
    phone.write(phone.analyzeLine({ text: "kept" }));
    expect((await phone.next((f) => f.event === "error", 3000)).data.code).toBe("QUEUE_FULL");
    blocked.shift()!();
    expect((await phone.next(reply)).data.text).toBe("echo:!block");
    expect((await phone.next(reply)).data.text).toBe("echo:kept");
    expect(g.app.gateway.dispatcher!.stats().dropped.queue_full).toBe(1);
    phone.destroy();
  });

  test("a webhook bot answers the phone", async () => {
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) => {
        const body = (await req.json()) as { message: { text: string } };
        return Response.json({ reply: [`hook:${body.message.text}`, "@no-reply"] });
      },
    });
    const { phone } = await start({}, { webhook: { url: `http://127.0.0.1:${server.port}/kakao`, secret: "webhook-secret-0123456789" } });
    phone.write(phone.analyzeLine({ text: "hello" }));
    expect((await phone.next(reply, 3000)).data.text).toBe("hook:hello");
    phone.destroy();
  });
});
