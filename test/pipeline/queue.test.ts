import { afterEach, describe, expect, test } from "bun:test";
import type { BotHandler } from "../../src/bot/types.ts";
import { deferred, inbound, live, pipelineWith, type TestPipeline, waitUntil } from "./support.ts";

let t: TestPipeline | null = null;
afterEach(async () => {
  await t?.pipeline.close();
  t = null;
});

/** A bot whose "block" message holds the worker until `gate` opens; every other message echoes its text. */
function gated() {
  const gate = deferred();
  const handler: BotHandler = async (m) => {
    if (m.text === "block") await gate.promise;
    return m.text;
  };
  return { gate, handler };
}

describe("bounded inbound queue", () => {
  test("full queue: the oldest entry of the busiest room is dropped, the new one accepted, the phone told once", async () => {
    const { gate, handler } = gated();
    t = pipelineWith({ bot: handler }, { workers: 1, queueSize: 5 });
    t.pipeline.submit(inbound({ text: "block", room: "blocker" }));
    for (let i = 1; i <= 4; i++) t.pipeline.submit(inbound({ text: `busy${i}`, room: "busy", device: "flooder" }));
    t.pipeline.submit(inbound({ text: "quiet1", room: "quiet" }));
    expect(t.pipeline.stats().queueDepth).toBe(5);
    t.pipeline.submit(inbound({ text: "busy5", room: "busy", device: "flooder" }));
    t.pipeline.submit(inbound({ text: "quiet2", room: "quiet" }));
    let s = t.pipeline.stats();
    expect(s.queueDepth).toBe(5);
    expect(s.dropped.queue_full).toBe(2);
    expect(t.out.notices.length).toBe(1); // at most one notice a second per device
    expect(t.out.notices[0]!.origin.deviceId).toBe("flooder");
    expect(t.out.notices[0]!.error.code).toBe("QUEUE_FULL");
    gate.resolve();
    await t.out.waitFor(6);
    expect(t.out.texts.sort()).toEqual(["block", "busy3", "busy4", "busy5", "quiet1", "quiet2"]);
    s = t.pipeline.stats();
    expect(s.enqueued).toBe(8);
    expect(s.completed).toBe(6);
  });

  test("full queue: each drop goes to the room that is the busiest at that moment, even after earlier drops", async () => {
    const { gate, handler } = gated();
    t = pipelineWith({ bot: handler }, { workers: 1, queueSize: 6 });
    t.pipeline.submit(inbound({ text: "block", room: "blocker" }));
    for (let i = 1; i <= 3; i++) t.pipeline.submit(inbound({ text: `h${i}`, room: "H" }));
    for (let i = 1; i <= 3; i++) t.pipeline.submit(inbound({ text: `b${i}`, room: "B" }));
    // H and B hold 3 each: the first drop takes one of them; then the other is the busiest (3 > 2).
    t.pipeline.submit(inbound({ text: "x", room: "Q" }));
    t.pipeline.submit(inbound({ text: "y", room: "Q" }));
    expect(t.pipeline.stats().dropped.queue_full).toBe(2);
    gate.resolve();
    await t.out.waitFor(7);
    expect(t.out.texts.sort()).toEqual(["b2", "b3", "block", "h2", "h3", "x", "y"]);
  });

  test("entries expire after the TTL and are dropped before work starts (timer sweep, no dispatch needed)", async () => {
    const { gate, handler } = gated();
    const seen: string[] = [];
    const spy: BotHandler = (m, ctx) => (seen.push(m.text), handler(m, ctx));
    t = pipelineWith({ bot: spy }, { workers: 1, ttlMs: 40 });
    t.pipeline.submit(inbound({ text: "block" }));
    for (let i = 0; i < 3; i++) t.pipeline.submit(inbound({ text: `late${i}`, room: `r${i}` }));
    expect(t.pipeline.stats().queueDepth).toBe(3);
    expect(live(t.tracker).timer).toBe(2); // the TTL sweep and the job-deadline timer
    await waitUntil(() => t!.pipeline.stats().dropped.expired === 3, 1000, "three expiries");
    expect(t.pipeline.stats().queueDepth).toBe(0);
    gate.resolve();
    await t.out.waitFor(1);
    expect(seen).toEqual(["block"]);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("a message already older than the TTL when submitted never reaches the handler", () => {
    let calls = 0;
    t = pipelineWith({ bot: () => void calls++ }, { ttlMs: 1000 });
    t.pipeline.submit(inbound({ receivedAt: Date.now() - 1500 }));
    expect(calls).toBe(0);
    expect(t.pipeline.stats().dropped.expired).toBe(1);
  });

  test("10,000 queued messages drain completely, each room in order, nothing dropped or leaked", async () => {
    const gate = deferred();
    const handler: BotHandler = async (m) => {
      await gate.promise;
      if (Number(m.logId) % 7 === 0) await new Promise((r) => setTimeout(r, 0));
      return m.text;
    };
    t = pipelineWith({ bot: handler }, { queueSize: 10_000, perRoomConcurrency: 1 });
    const rooms = 40;
    for (let i = 0; i < 10_000; i++) t.pipeline.submit(inbound({ text: `${i % rooms}:${i}`, room: `room${i % rooms}` }));
    let s = t.pipeline.stats();
    expect(s.inFlight).toBe(30); // per-bot limit (30) below the 31 workers
    expect(s.queueDepth).toBe(10_000 - 30);
    gate.resolve();
    await t.out.waitFor(10_000, 20_000);
    s = t.pipeline.stats();
    expect(s.completed).toBe(10_000);
    expect(Object.values(s.dropped).reduce((a, b) => a + b, 0)).toBe(0);
    const lastPerRoom = new Map<string, number>();
    for (const text of t.out.texts) {
      const [room, n] = text.split(":").map(Number) as [number, number];
      expect(n).toBeGreaterThan(lastPerRoom.get(String(room)) ?? -1);
      lastPerRoom.set(String(room), n);
    }
    expect(s.jobDurationMs.count).toBe(10_000);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });
});

describe("inbound dedupe", () => {
  test("a logId already accepted for the same bot within the window is processed once", async () => {
    t = pipelineWith({ a: (m) => `a:${m.text}`, b: (m) => `b:${m.text}` }, { dedupeWindowMs: 40 });
    t.pipeline.submit(inbound({ bot: "a", logId: "77", text: "x" }));
    t.pipeline.submit(inbound({ bot: "a", logId: "77", text: "x" }));
    t.pipeline.submit(inbound({ bot: "b", logId: "77", text: "x" })); // another bot: its own message
    t.pipeline.submit(inbound({ bot: "a", logId: null, text: "n" }));
    t.pipeline.submit(inbound({ bot: "a", logId: null, text: "n" })); // no logId: never deduped
    expect(t.out.texts).toEqual(["a:x", "b:x", "a:n", "a:n"]);
    expect(t.pipeline.stats().dropped.duplicate).toBe(1);
    await new Promise((r) => setTimeout(r, 90)); // beyond twice the window
    t.pipeline.submit(inbound({ bot: "a", logId: "77", text: "x" }));
    expect(t.out.texts.length).toBe(5);
  });

  test("a message dropped before work started may be resent and is then processed", async () => {
    const { gate, handler } = gated();
    t = pipelineWith({ bot: handler }, { workers: 1, queueSize: 1 });
    t.pipeline.submit(inbound({ text: "block" }));
    t.pipeline.submit(inbound({ text: "first", logId: "1001" }));
    t.pipeline.submit(inbound({ text: "second", logId: "1002" })); // evicts 1001
    t.pipeline.submit(inbound({ text: "first", logId: "1001" })); // the resend is accepted (evicts 1002)
    expect(t.pipeline.stats().dropped).toMatchObject({ queue_full: 2, duplicate: 0 });
    gate.resolve();
    await t.out.waitFor(2);
    expect(t.out.texts).toEqual(["block", "first"]);
  });

  test("dedupe memory is capped: a flood shortens the window instead of growing", () => {
    t = pipelineWith({ bot: () => undefined }, { dedupeMaxEntries: 100 });
    for (let i = 0; i < 1000; i++) t.pipeline.submit(inbound({ logId: `id${i}` }));
    expect(t.pipeline.stats().dedupeEntries).toBeLessThanOrEqual(100);
    t.pipeline.submit(inbound({ logId: "id999" }));
    expect(t.pipeline.stats().dropped.duplicate).toBe(1);
  });

  test("the dedupe cap holds for all bots together, each bot getting an equal share", () => {
    const bots = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`bot${i}`, () => undefined]));
    t = pipelineWith(bots, { dedupeMaxEntries: 1000 });
    for (let b = 0; b < 10; b++) for (let i = 0; i < 1000; i++) t.pipeline.submit(inbound({ bot: `bot${b}`, logId: `id${i}` }));
    expect(t.pipeline.stats().dedupeEntries).toBeLessThanOrEqual(1000);
    expect(t.pipeline.stats().dedupeEntries).toBeGreaterThanOrEqual(500); // each bot still remembers its recent ids
    t.pipeline.submit(inbound({ bot: "bot3", logId: "id999" }));
    expect(t.pipeline.stats().dropped.duplicate).toBe(1);
  });
});
