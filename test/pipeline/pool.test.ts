import { afterEach, describe, expect, test } from "bun:test";
import type { BotContext, BotHandler } from "../../src/bot/types.ts";
import { BotgateError } from "../../src/errors.ts";
import { deferred, inbound, live, pipelineWith, type TestPipeline, waitUntil } from "./support.ts";

let t: TestPipeline | null = null;
afterEach(async () => {
  await t?.pipeline.close();
  t = null;
});

const pong: BotHandler = (m) => (m.text === "ping" ? "pong" : undefined);

describe("worker pool: handlers cannot hurt the pipeline", () => {
  test("a hanging handler that honours its signal: aborted at the deadline, slot freed at once, nothing sent", async () => {
    let seenReason: unknown = null;
    const handler: BotHandler = (m, ctx) => {
      if (m.text !== "hang") return pong(m, ctx);
      return new Promise((_, reject) =>
        ctx.signal.addEventListener("abort", () => {
          seenReason = ctx.signal.reason;
          reject(ctx.signal.reason);
        }),
      );
    };
    t = pipelineWith({ bot: handler }, { workers: 1, jobTimeoutMs: 60 });
    const started = performance.now();
    t.pipeline.submit(inbound({ text: "hang" }));
    t.pipeline.submit(inbound({ text: "ping" }));
    expect(t.pipeline.stats().queueDepth).toBe(1); // the one worker is busy
    await t.out.waitFor(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(t.out.texts).toEqual(["pong"]);
    expect(seenReason).toBeInstanceOf(BotgateError);
    expect((seenReason as BotgateError).code).toBe("TIMEOUT");
    const s = t.pipeline.stats();
    expect(s.timeouts).toBe(1);
    expect(s.completed).toBe(1);
    await waitUntil(() => t!.pipeline.stats().zombies.count === 0, 1000, "the aborted job to settle");
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("a handler ignoring its abort is a zombie: counted, listed with its age, its late result discarded", async () => {
    const release = deferred();
    let lateReply: boolean | null = null;
    const handler: BotHandler = async (m, ctx) => {
      if (m.text !== "stubborn") return pong(m, ctx);
      await release.promise; // never looks at ctx.signal
      lateReply = ctx.reply("too late");
      return "also too late";
    };
    t = pipelineWith({ bot: handler }, { workers: 1, jobTimeoutMs: 40 });
    t.pipeline.submit(inbound({ text: "stubborn", room: "slow" }));
    t.pipeline.submit(inbound({ text: "ping" }));
    await t.out.waitFor(1);
    let s = t.pipeline.stats();
    expect(s.timeouts).toBe(1);
    expect(s.inFlight).toBe(0);
    expect(s.zombies.count).toBe(1);
    expect(s.zombies.list[0]!.bot).toBe("bot");
    expect(s.zombies.list[0]!.room).toBe("bot/slow");
    expect(s.zombies.list[0]!.ageMs).toBeGreaterThanOrEqual(35);
    expect(live(t.tracker).job).toBe(1); // still a live resource until it settles
    release.resolve();
    await waitUntil(() => t!.pipeline.stats().zombies.count === 0, 1000, "zombie to settle");
    expect(lateReply as boolean | null).toBe(false);
    s = t.pipeline.stats();
    expect(t.out.texts).toEqual(["pong"]);
    expect(s.completed).toBe(1);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("zombie cap: beyond it new work waits; when a zombie settles, work resumes", async () => {
    const stuck = [deferred(), deferred()];
    let n = 0;
    const handler: BotHandler = async (m, ctx) => {
      if (m.text === "stuck") await stuck[n++]!.promise;
      return pong(m, ctx);
    };
    t = pipelineWith({ bot: handler }, { workers: 4, jobTimeoutMs: 30, maxZombies: 2, ttlMs: 60_000 });
    t.pipeline.submit(inbound({ text: "stuck", room: "a" }));
    t.pipeline.submit(inbound({ text: "stuck", room: "b" }));
    await waitUntil(() => t!.pipeline.stats().zombies.count === 2, 1000, "two zombies");
    expect(t.pipeline.stats().stalled).toBe(true);
    t.pipeline.submit(inbound({ text: "ping", room: "c" }));
    await new Promise((r) => setTimeout(r, 30));
    let s = t.pipeline.stats();
    expect(s.started).toBe(2);
    expect(s.queueDepth).toBe(1);
    expect(t.out.texts).toEqual([]);
    stuck[0]!.resolve();
    await t.out.waitFor(1);
    s = t.pipeline.stats();
    expect(s.started).toBe(3);
    expect(s.stalled).toBe(false);
    expect(s.zombies.count).toBe(1);
    stuck[1]!.resolve();
  });

  test("throwing and rejecting handlers are counted as failures; nothing is sent; the others carry on", async () => {
    const handler: BotHandler = async (m) => {
      if (m.text === "reject") throw new Error("boom");
      return "ok";
    };
    const syncThrow: BotHandler = () => {
      throw new TypeError("sync boom");
    };
    t = pipelineWith({ bot: handler, thrower: syncThrow }, { workers: 2 });
    t.pipeline.submit(inbound({ bot: "thrower" }));
    t.pipeline.submit(inbound({ text: "reject" }));
    t.pipeline.submit(inbound({ text: "fine" }));
    t.pipeline.submit(inbound({ bot: "thrower" }));
    t.pipeline.submit(inbound({ text: "fine" }));
    await t.out.waitFor(2);
    await waitUntil(() => t!.pipeline.stats().failed === 3, 1000, "three failures");
    const s = t.pipeline.stats();
    expect(t.out.texts).toEqual(["ok", "ok"]);
    expect(s.failures).toEqual({ HANDLER_FAILED: 3 });
    expect(s.inFlight).toBe(0);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("a hand-made thenable whose then() throws is a failure, not a crash of submit()", async () => {
    const evil = { then() { throw new Error("evil thenable"); } };
    t = pipelineWith({ bot: () => evil as never });
    expect(() => t!.pipeline.submit(inbound())).not.toThrow();
    await waitUntil(() => t!.pipeline.stats().failed === 1, 1000, "the failure");
    expect(t.pipeline.stats().inFlight).toBe(0);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("a result whose `then` getter throws (a revoked Proxy) is a failure; nothing escapes submit()", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const getterThrows = Object.defineProperty({}, "then", { get() { throw new Error("getter"); } });
    t = pipelineWith({ bot: (m) => (m.text === "revoked" ? proxy : getterThrows) as never });
    expect(() => t!.pipeline.submit(inbound({ text: "revoked" }))).not.toThrow();
    expect(() => t!.pipeline.submit(inbound({ text: "getter" }))).not.toThrow();
    const s = t.pipeline.stats();
    expect(s.failed).toBe(2);
    expect(s.inFlight).toBe(0);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("a thenable whose then() returns nothing (legal) is adopted: its value is the reply", async () => {
    const thenable = { then(resolve: (v: string) => void) { resolve("답장 🙂"); } };
    t = pipelineWith({ bot: () => thenable as never });
    t.pipeline.submit(inbound());
    await t.out.waitFor(1);
    expect(t.out.texts).toEqual(["답장 🙂"]);
    expect(t.pipeline.stats()).toMatchObject({ completed: 1, failed: 0 });
  });

  test("a handler that writes ctx.state (as Koa/Telegraf handlers do) cannot touch the pipeline's bookkeeping", async () => {
    const handler: BotHandler = async (m, ctx) => {
      const c = ctx as unknown as Record<string, unknown>;
      c.state = { user: m.sender };
      c.next = null;
      c.prev = null;
      c.timedOut = true;
      if (m.text === "hang") await new Promise(() => {});
      return "ok";
    };
    t = pipelineWith({ bot: handler }, { workers: 2, jobTimeoutMs: 60 });
    for (const text of ["hang", "hang", "a", "b"]) t.pipeline.submit(inbound({ text, room: text }));
    await t.out.waitFor(2);
    await waitUntil(() => t!.pipeline.stats().completed === 2, 2000, "both answers");
    const s = t.pipeline.stats();
    expect(s).toMatchObject({ started: 4, completed: 2, timeouts: 2, inFlight: 0 });
    expect(t.out.texts).toEqual(["ok", "ok"]);
  });

  test("a result that settles after its deadline, before the deadline timer runs, is a timeout: not sent", async () => {
    const handler: BotHandler = async () => {
      await null;
      const end = performance.now() + 60; // the event loop is busy: the deadline timer cannot run
      while (performance.now() < end);
      return "too late";
    };
    t = pipelineWith({ bot: handler }, { jobTimeoutMs: 20 });
    t.pipeline.submit(inbound());
    await waitUntil(() => t!.pipeline.stats().timeouts === 1, 1000, "the timeout");
    const s = t.pipeline.stats();
    expect(s).toMatchObject({ completed: 0, timeouts: 1, inFlight: 0, zombies: { count: 0 } });
    expect(t.out.texts).toEqual([]);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("ctx.reply after the deadline is refused even before the deadline timer runs; a late result never counts as a zombie", async () => {
    let late: boolean | null = null;
    const handler: BotHandler = async (_m, ctx) => {
      await null;
      const end = performance.now() + 60; // the event loop is busy: the deadline timer cannot run
      while (performance.now() < end);
      late = ctx.reply("늦은 답장");
      return "also late";
    };
    t = pipelineWith({ bot: handler }, { jobTimeoutMs: 20, maxZombies: 1 });
    t.pipeline.submit(inbound());
    await waitUntil(() => t!.pipeline.stats().timeouts === 1, 1000, "the timeout");
    expect(late as boolean | null).toBe(false);
    expect(t.out.texts).toEqual([]);
    expect(t.pipeline.stats()).toMatchObject({ zombies: { count: 0 }, stalled: false, inFlight: 0 });
    t.pipeline.submit(inbound({ text: "ping" })); // the one zombie slot was never taken
    await waitUntil(() => t!.pipeline.stats().timeouts === 2, 1000, "the second (late) job");
  });

  test("zombies are listed oldest first, also across bots with different timeouts", async () => {
    const hang: BotHandler = () => new Promise(() => {});
    t = pipelineWith({ slow: { handler: hang, jobTimeoutMs: 150 }, fast: { handler: hang, jobTimeoutMs: 20 } }, { workers: 4 });
    t.pipeline.submit(inbound({ bot: "slow" }));
    await waitUntil(() => t!.pipeline.stats().inFlight === 1, 1000, "the slow job running");
    t.pipeline.submit(inbound({ bot: "fast" })); // younger, but times out first
    await waitUntil(() => t!.pipeline.stats().zombies.count === 2, 2000, "both zombies");
    expect(t.pipeline.stats().zombies.list.map((z) => z.bot)).toEqual(["slow", "fast"]);
  });

  test("never more than `workers` jobs at once; per-bot limit caps a bot below that", async () => {
    const gates: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    const handler: BotHandler = () => {
      running++;
      peak = Math.max(peak, running);
      return new Promise((r) => gates.push(() => (running--, r("done"))));
    };
    t = pipelineWith({ bot: handler }, { workers: 5, perBotConcurrency: 3, perRoomConcurrency: 10 });
    for (let i = 0; i < 20; i++) t.pipeline.submit(inbound({ room: `r${i % 4}` }));
    while (t.out.texts.length < 20) {
      await waitUntil(() => gates.length > 0, 1000, "a running job");
      expect(t.pipeline.stats().inFlightPerBot.bot).toBeLessThanOrEqual(3);
      gates.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(peak).toBe(3);
    expect(t.pipeline.stats().completed).toBe(20);
  });

  test("per-bot timeout overrides the pipeline default", async () => {
    const hang: BotHandler = (_m, ctx: BotContext) => new Promise((_, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason)));
    t = pipelineWith({ quick: { handler: hang, jobTimeoutMs: 20 }, slow: { handler: hang, jobTimeoutMs: null } }, { jobTimeoutMs: 60_000 });
    t.pipeline.submit(inbound({ bot: "quick" }));
    t.pipeline.submit(inbound({ bot: "slow" }));
    await waitUntil(() => t!.pipeline.stats().timeouts === 1, 1000, "the quick bot's timeout");
    await new Promise((r) => setTimeout(r, 40));
    const s = t.pipeline.stats();
    expect(s.timeouts).toBe(1);
    expect(s.inFlightPerBot).toEqual({ quick: 0, slow: 1 });
  });

  test("ctx.deadline is the epoch ms at which the signal fires", async () => {
    let deadline = 0;
    const before = Date.now();
    t = pipelineWith({ bot: (_m, ctx) => void (deadline = ctx.deadline) }, { jobTimeoutMs: 5000 });
    t.pipeline.submit(inbound());
    expect(deadline).toBeGreaterThanOrEqual(before + 5000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5000);
  });

  test("a handler that closes the pipeline and then rejects: its rejection is observed, not reported as unhandled", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const handler: BotHandler = async () => {
        void t!.pipeline.close();
        throw new Error("boom after close");
      };
      t = pipelineWith({ bot: handler });
      t.pipeline.submit(inbound({ text: "x" }));
      // Unhandled rejections are reported once the microtasks have run: two event-loop turns.
      for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
      expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("close(): queued entries dropped as shutdown, running jobs aborted, nothing left tracked", async () => {
    const signals: AbortSignal[] = [];
    const handler: BotHandler = (_m, ctx) => {
      signals.push(ctx.signal);
      return new Promise(() => {});
    };
    const tp = pipelineWith({ bot: handler }, { workers: 2 });
    for (let i = 0; i < 5; i++) tp.pipeline.submit(inbound({ room: `r${i}` }));
    expect(tp.pipeline.stats().queueDepth).toBe(3);
    expect(live(tp.tracker).job).toBe(2);
    await tp.pipeline.close();
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect((signals[0]!.reason as BotgateError).code).toBe("SHUTTING_DOWN");
    const s = tp.pipeline.stats();
    expect(s.dropped.shutdown).toBe(3);
    expect(s.queueDepth).toBe(0);
    expect(tp.tracker.counts()).toMatchObject({ job: 0, timer: 0 });
    tp.pipeline.submit(inbound());
    expect(tp.pipeline.stats().dropped.shutdown).toBe(4);
  });
});

describe("worker pool: handler mistakes that used to escape", () => {
  test("a rejection String() cannot convert, and a bigint mediaWaitTime: failures, not a dead process", async () => {
    const nasty = Object.create(null); // String(nasty) throws
    t = pipelineWith({
      rejects: async () => Promise.reject(nasty),
      bigint: () => ({ text: "x", mediaWaitTime: 1n as unknown as number }),
      asyncBigint: async () => [{ text: "y", mediaWaitTime: 2n as unknown as number }],
      ok: () => "pong",
    });
    for (const bot of ["rejects", "bigint", "asyncBigint", "ok"]) t.pipeline.submit(inbound({ bot, room: bot }));
    await waitUntil(() => t!.pipeline.stats().failed === 3, 3000, "three failures");
    expect(t.pipeline.stats().failures).toEqual({ HANDLER_FAILED: 3 });
    expect(t.out.texts).toEqual(["pong"]);
    expect(t.pipeline.stats().inFlight).toBe(0);
  });

  test("a job deadline timer keeps firing for the jobs behind one whose handling went wrong", async () => {
    t = pipelineWith({ bot: (m) => (m.text === "sync" ? { text: "x", mediaWaitTime: 1n as unknown as number } : new Promise(() => {})) }, { workers: 2, jobTimeoutMs: 100 });
    t.pipeline.submit(inbound({ text: "hangA", room: "a" }));
    t.pipeline.submit(inbound({ text: "hangB", room: "b" }));
    t.pipeline.submit(inbound({ text: "sync", room: "c" })); // queued: starts inside the first timeout's callback
    await waitUntil(() => t!.pipeline.stats().timeouts === 2 && t!.pipeline.stats().failed === 1, 3000, "both timeouts and the failure");
    expect(t.pipeline.stats().inFlight).toBe(0);
  });

  test("an Outbound that throws is counted as undeliverable; nothing escapes into the gap timers", async () => {
    t = pipelineWith({ bot: () => ["one", "two"] }, { replyGapMs: 10 });
    t.out.deliver = () => {
      throw new Error("encoder bug");
    };
    t.pipeline.submit(inbound());
    await waitUntil(() => t!.pipeline.stats().replies.undeliverable === 2, 3000, "both items counted");
    expect(t.pipeline.stats().replies).toMatchObject({ sent: 0, pending: 0 });
  });
});

describe("worker pool: replies and order", () => {
  test("gaps are per list: a later single reply to the room is not held back behind a list (no backlog can build)", async () => {
    t = pipelineWith({ bot: (m) => (m.text === "list" ? ["l1", "l2"] : "single") }, { perRoomConcurrency: 1, replyGapMs: 200 });
    t.pipeline.submit(inbound({ text: "list", room: "방" }));
    t.pipeline.submit(inbound({ text: "next", room: "방" }));
    expect(t.out.texts).toEqual(["l1", "single"]); // at once, not after l2's gap
    expect(t.pipeline.stats().replies.pending).toBe(1);
    await t.out.waitFor(3);
    expect(t.out.texts).toEqual(["l1", "single", "l2"]);
  });

  test("a handler that closes the pipeline: the counts close() reset stay at zero, nothing is left pending", async () => {
    let p!: TestPipeline;
    p = t = pipelineWith({
      bot: (m) => {
        void p.pipeline.close();
        if (m.text === "throw") throw new Error("after close");
        return ["a", "b"];
      },
    }, { replyGapMs: 50 });
    t.pipeline.submit(inbound());
    const s = t.pipeline.stats();
    expect([s.inFlight, s.inFlightPerBot, s.replies.pending]).toEqual([0, { bot: 0 }, 0]);
  });

  test("reply items still waiting for their gap are dropped once their job times out", async () => {
    const hold = deferred();
    t = pipelineWith(
      {
        bot: async (_m, ctx) => {
          ctx.reply(["early", "late"]);
          await hold.promise; // then hangs past the deadline
        },
      },
      { jobTimeoutMs: 60, replyGapMs: 150 },
    );
    t.pipeline.submit(inbound());
    await waitUntil(() => t!.pipeline.stats().replies.discarded === 1, 3000, "the late item discarded");
    expect(t.out.texts).toEqual(["early"]);
    expect(t.pipeline.stats().timeouts).toBe(1);
    hold.resolve();
  });

  test("close(): in-flight counts go back to zero with the jobs", async () => {
    t = pipelineWith({ bot: () => new Promise(() => {}) }, { workers: 3 });
    for (const room of ["a", "b", "c"]) t.pipeline.submit(inbound({ room }));
    expect(t.pipeline.stats().inFlight).toBe(3);
    await t.pipeline.close();
    const s = t.pipeline.stats();
    expect([s.inFlight, s.inFlightPerBot, s.inFlightPerRoom]).toEqual([0, { bot: 0 }, {}]);
  });
});

describe("worker pool: drain before close (shutdown)", () => {
  test("refuses new work at once; running and queued jobs finish and are answered; resolves when idle, its timer released", async () => {
    const gates = [deferred(), deferred()];
    let calls = 0;
    const handler: BotHandler = async (m) => {
      const i = calls++;
      if (i < gates.length) await gates[i]!.promise;
      return `답: ${m.text}`;
    };
    t = pipelineWith({ bot: handler }, { workers: 1 });
    t.pipeline.submit(inbound({ text: "달리는 중 🏃", room: "방 🎉" }));
    t.pipeline.submit(inbound({ text: "대기 중 ⏳", room: "방 🎉" }));
    expect(t.pipeline.stats()).toMatchObject({ inFlight: 1, queueDepth: 1 });
    let result: boolean | null = null;
    const drained = t.pipeline.drain(5000).then((r) => (result = r));
    expect(t.tracker.list().filter((e) => e.label === "shutdown-drain").length).toBe(1); // its deadline, tracked
    t.pipeline.submit(inbound({ text: "늦음" }));
    expect(t.pipeline.stats().dropped.shutdown).toBe(1);
    gates[0]!.resolve();
    await t.out.waitFor(1);
    expect(result).toBeNull(); // the queued job has started, not finished
    gates[1]!.resolve();
    await drained;
    expect(result as boolean | null).toBe(true);
    expect(t.out.texts).toEqual(["답: 달리는 중 🏃", "답: 대기 중 ⏳"]);
    expect(calls).toBe(2); // the refused message never reached the handler
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
    expect(t.pipeline.drain(5000)).toBe(t.pipeline.drain(1)); // one drain: later calls get the same promise
  });

  test("waits for the gap sends of a list reply", async () => {
    t = pipelineWith({ bot: () => ["하나", "둘", "셋"] }, { replyGapMs: 30 });
    t.pipeline.submit(inbound());
    expect(t.pipeline.stats().replies.pending).toBe(2);
    expect(await t.pipeline.drain(5000)).toBe(true);
    expect(t.out.texts).toEqual(["하나", "둘", "셋"]);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("a timed-out job (a zombie) has nothing left to send: it does not hold the drain", async () => {
    t = pipelineWith({ bot: () => new Promise(() => {}) }, { jobTimeoutMs: 40 });
    t.pipeline.submit(inbound());
    expect(await t.pipeline.drain(5000)).toBe(true);
    expect(t.pipeline.stats()).toMatchObject({ timeouts: 1, zombies: { count: 1 } });
  });

  test("a handler that never settles: resolves false at the deadline; close() then aborts it and releases everything", async () => {
    const signals: AbortSignal[] = [];
    t = pipelineWith({
      bot: (_m, ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => {});
      },
    });
    t.pipeline.submit(inbound());
    const started = performance.now();
    expect(await t.pipeline.drain(80)).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect(signals[0]!.aborted).toBe(false);
    await t.pipeline.close();
    expect((signals[0]!.reason as BotgateError).code).toBe("SHUTTING_DOWN");
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("after the deadline nothing queued starts, even when a slot frees before close()", async () => {
    const texts: string[] = [];
    t = pipelineWith(
      {
        bot: (m) => {
          texts.push(m.text);
          return m.text === "멈춤" ? new Promise(() => {}) : `답: ${m.text}`;
        },
      },
      { workers: 1, jobTimeoutMs: 100 },
    );
    t.pipeline.submit(inbound({ text: "멈춤", room: "a" }));
    t.pipeline.submit(inbound({ text: "기다림 ⏳", room: "b" }));
    expect(await t.pipeline.drain(30)).toBe(false);
    // The hung job times out (its slot frees) while the gateway is still saying goodbye.
    await waitUntil(() => t!.pipeline.stats().timeouts === 1, 3000, "the hung job timed out");
    expect(texts).toEqual(["멈춤"]);
    expect(t.pipeline.stats()).toMatchObject({ started: 1, queueDepth: 1 });
    await t.pipeline.close();
    expect(t.pipeline.stats().dropped.shutdown).toBe(1);
    expect(t.out.texts).toEqual([]);
  });

  test("the TTL sweep can end a drain: a queued message that cannot start (zombie cap) expires", async () => {
    t = pipelineWith({ bot: () => new Promise(() => {}) }, { workers: 1, maxZombies: 1, jobTimeoutMs: 40, ttlMs: 300 });
    t.pipeline.submit(inbound({ room: "a" }));
    t.pipeline.submit(inbound({ room: "b" }));
    const started = performance.now();
    expect(await t.pipeline.drain(10_000)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(t.pipeline.stats()).toMatchObject({ started: 1, queueDepth: 0, zombies: { count: 1 } });
    expect(t.pipeline.stats().dropped.expired).toBe(1);
  });

  test("close() during a drain ends it (false) and drops what is queued", async () => {
    t = pipelineWith({ bot: () => new Promise(() => {}) }, { workers: 1 });
    t.pipeline.submit(inbound({ room: "a" }));
    t.pipeline.submit(inbound({ room: "b" }));
    const drained = t.pipeline.drain(60_000);
    await t.pipeline.close();
    expect(await drained).toBe(false);
    expect(t.pipeline.stats().dropped.shutdown).toBe(1);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("an idle pipeline drains at once, without a timer", async () => {
    t = pipelineWith({ bot: pong });
    const drained = t.pipeline.drain(60_000);
    expect(t.tracker.list()).toEqual([]);
    expect(await drained).toBe(true);
  });
});
