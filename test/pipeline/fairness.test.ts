import { afterEach, describe, expect, test } from "bun:test";
import type { BotHandler } from "../../src/bot/types.ts";
import { inbound, pipelineWith, type TestPipeline, waitUntil } from "./support.ts";

let t: TestPipeline | null = null;
afterEach(async () => {
  await t?.pipeline.close();
  t = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("fairness: per-bot and per-room limits", () => {
  test("room limit 1: each room's messages run (and answer) in arrival order, one at a time", async () => {
    const runningPerRoom = new Map<string, number>();
    const startOrder: string[] = [];
    let violation = false;
    const handler: BotHandler = async (m) => {
      const n = (runningPerRoom.get(m.room) ?? 0) + 1;
      if (n > 1) violation = true;
      runningPerRoom.set(m.room, n);
      startOrder.push(m.text);
      await sleep(Math.floor(Math.random() * 4));
      runningPerRoom.set(m.room, n - 1);
      return m.text;
    };
    t = pipelineWith({ bot: handler }, { perRoomConcurrency: 1 });
    for (let i = 0; i < 90; i++) t.pipeline.submit(inbound({ room: `r${i % 3}`, text: `r${i % 3}:${i}` }));
    await t.out.waitFor(90, 10_000);
    expect(violation).toBe(false);
    for (const room of ["r0", "r1", "r2"]) {
      const expected = Array.from({ length: 30 }, (_, k) => `${room}:${k * 3 + Number(room[1])}`);
      expect(startOrder.filter((x) => x.startsWith(`${room}:`))).toEqual(expected);
      expect(t.out.texts.filter((x) => x.startsWith(`${room}:`))).toEqual(expected);
    }
  });

  test("a busy room cannot starve the others: a quiet room's message starts at the next free slot", async () => {
    const handler: BotHandler = async (m) => {
      await sleep(m.room === "busy" ? 10 : 0);
      return m.text;
    };
    t = pipelineWith({ bot: handler }, { workers: 3, perRoomConcurrency: 3 }); // every worker busy with the busy room
    for (let i = 0; i < 60; i++) t.pipeline.submit(inbound({ room: "busy", text: `busy${i}` }));
    await t.out.waitFor(3);
    t.pipeline.submit(inbound({ room: "quiet", text: "quiet" }));
    const busyBefore = t.out.texts.length;
    await waitUntil(() => t!.out.texts.includes("quiet"), 2000, "the quiet room's reply");
    // only the busy jobs already running may finish first; a FIFO queue would make it wait for ~57
    expect(t.out.texts.length - busyBefore).toBeLessThanOrEqual(4);
    expect(t.pipeline.stats().queueDepth).toBeGreaterThan(40);
  });

  test("round-robin across bots: one bot's backlog does not hold another bot's message back", async () => {
    const slow: BotHandler = async (m) => (await sleep(5), m.text);
    t = pipelineWith({ flood: slow, calm: slow }, { workers: 2, perBotConcurrency: 2, perRoomConcurrency: 2 });
    for (let i = 0; i < 50; i++) t.pipeline.submit(inbound({ bot: "flood", room: `f${i % 5}`, text: `flood${i}` }));
    t.pipeline.submit(inbound({ bot: "calm", text: "calm" }));
    await waitUntil(() => t!.out.texts.includes("calm"), 2000, "the calm bot's reply");
    expect(t.out.texts.indexOf("calm")).toBeLessThanOrEqual(3);
  });

  test("in-flight figures per bot and per room", async () => {
    const gates: Array<() => void> = [];
    const handler: BotHandler = () => new Promise((r) => gates.push(() => r(undefined)));
    t = pipelineWith({ bot: handler }, { perRoomConcurrency: 2 });
    for (let i = 0; i < 3; i++) t.pipeline.submit(inbound({ room: "a" }));
    t.pipeline.submit(inbound({ room: "b", channelId: "42" }));
    const s = t.pipeline.stats();
    expect(s.inFlight).toBe(3);
    expect(s.inFlightPerBot).toEqual({ bot: 3 });
    expect(s.inFlightPerRoom).toEqual({ "bot/a": 2, "bot/b#42": 1 });
    expect(s.queueDepth).toBe(1);
    for (const g of gates.splice(0)) g();
    await waitUntil(() => gates.length === 1, 1000, "the queued job to start");
    expect(t.pipeline.stats().inFlightPerRoom).toEqual({ "bot/a": 1 });
    gates.pop()!();
    await waitUntil(() => t!.pipeline.stats().completed === 4, 1000, "all done");
    expect(t.pipeline.stats().inFlightPerRoom).toEqual({});
  });
});

describe("scheduler bookkeeping", () => {
  test("idle rooms are kept for reuse but swept, so distinct room names cannot grow memory without bound", async () => {
    const { Scheduler, BotSlots, roomKey } = await import("../../src/pipeline/limits.ts");
    const s = new Scheduler(3);
    const bot = new BotSlots("bot", 30);
    const a = s.room(bot, roomKey("bot", "a", null), "a", null);
    expect(s.room(bot, roomKey("bot", "a", null), "a", null)).toBe(a);
    for (let i = 0; i < 50_000; i++) s.room(bot, roomKey("bot", `r${i}`, null), `r${i}`, null);
    expect(s.rooms.size).toBeLessThanOrEqual(10_001);
  });
});
