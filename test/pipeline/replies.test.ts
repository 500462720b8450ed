import { afterEach, describe, expect, test } from "bun:test";
import type { BotHandler } from "../../src/bot/types.ts";
import { normalizeResult } from "../../src/pipeline/replies.ts";
import { inbound, live, pipelineWith, type TestPipeline } from "./support.ts";

let t: TestPipeline | null = null;
afterEach(async () => {
  await t?.pipeline.close();
  t = null;
});

describe("reply semantics (spec section 6)", () => {
  test("@no-reply, empty and missing results send nothing", () => {
    expect(normalizeResult("@no-reply")).toEqual([]);
    expect(normalizeResult("")).toEqual([]);
    expect(normalizeResult(undefined)).toEqual([]);
    expect(normalizeResult(null)).toEqual([]);
    expect(normalizeResult(["a", "@no-reply", "", { text: "b", mediaWaitTime: 5 }, { text: "" }])).toEqual(["a", { text: "b", mediaWaitTime: 5 }]);
  });

  test("a list goes out as separate messages, replyGapMs apart, without holding the worker", async () => {
    const handler: BotHandler = (m) => (m.text === "list" ? ["one", "two", "three"] : "single");
    t = pipelineWith({ bot: handler }, { workers: 1, replyGapMs: 40 });
    t.pipeline.submit(inbound({ text: "list" }));
    expect(t.out.texts).toEqual(["one"]); // the first at once
    expect(t.pipeline.stats().inFlight).toBe(0); // the worker is already free
    t.pipeline.submit(inbound({ text: "other", room: "elsewhere" }));
    expect(t.out.texts).toEqual(["one", "single"]);
    expect(t.pipeline.stats().replies.pending).toBe(2);
    await t.out.waitFor(4);
    const d = t.out.deliveries;
    expect(d.map((x) => x.items.length)).toEqual([1, 1, 1, 1]);
    expect(t.out.texts).toEqual(["one", "single", "two", "three"]);
    expect(d[2]!.at - d[0]!.at).toBeGreaterThanOrEqual(35);
    expect(d[3]!.at - d[2]!.at).toBeGreaterThanOrEqual(35);
    expect(t.pipeline.stats().replies).toEqual({ sent: 4, undeliverable: 0, discarded: 0, pending: 0 });
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("media prefixes and mediaWaitTime pass through untouched", () => {
    const items = [{ text: "MEDIA_URL:https://example.org/a.png|||https://example.org/b.png", mediaWaitTime: 4000 }, "IMAGE_BASE64:data:image/png;base64,AAAA"];
    t = pipelineWith({ bot: () => items }, { replyGapMs: 0 });
    t.pipeline.submit(inbound());
    expect(t.out.deliveries.flatMap((d) => d.items)).toEqual(items);
  });

  test("ctx.reply sends before the handler returns; the origin (room, channel, device) is kept", async () => {
    const handler: BotHandler = async (_m, ctx) => {
      ctx.reply("working on it...");
      await new Promise((r) => setTimeout(r, 5));
      return "done";
    };
    t = pipelineWith({ bot: handler });
    t.pipeline.submit(inbound({ room: "방", channelId: "123", device: "phone-1" }));
    await t.out.waitFor(2);
    expect(t.out.texts).toEqual(["working on it...", "done"]);
    expect(t.out.deliveries[1]!.origin).toMatchObject({ room: "방", channelId: "123", deviceId: "phone-1" });
  });

  test("replies that cannot be routed are counted", () => {
    t = pipelineWith({ bot: () => "x" });
    t.out.routable = false;
    t.pipeline.submit(inbound());
    expect(t.pipeline.stats().replies).toMatchObject({ sent: 0, undeliverable: 1 });
  });

  test("close() cancels pending gap sends", async () => {
    t = pipelineWith({ bot: () => ["a", "b", "c"] }, { replyGapMs: 20 });
    t.pipeline.submit(inbound());
    expect(live(t.tracker).timer).toBe(1);
    await t.pipeline.close();
    expect(live(t.tracker).timer).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(t.out.texts).toEqual(["a"]);
  });
});
