import { describe, expect, test } from "bun:test";
import { Scope } from "../../src/resources/scope.ts";
import { TimerWheel } from "../../src/resources/timer-wheel.ts";
import { ResourceTracker } from "../../src/resources/tracker.ts";

const after = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("scoped timers on the shared wheel", () => {
  test("a timeout fires once, near its due time", async () => {
    const wheel = new TimerWheel();
    const scope = new Scope("t", undefined, wheel);
    const t0 = Date.now();
    const fired = await new Promise<number>((r) => scope.timeout(50, () => r(Date.now())));
    expect(fired - t0).toBeGreaterThanOrEqual(49);
    expect(fired - t0).toBeLessThan(1000);
    expect(wheel.live).toBe(0);
  });

  test("a wall-clock step neither fires due times early nor freezes them (monotonic clock)", async () => {
    const realNow = Date.now;
    const wheel = new TimerWheel();
    const scope = new Scope("t", undefined, wheel);
    let offset = 0;
    Date.now = () => realNow() + offset;
    try {
      let fired60s = false;
      scope.timeout(60_000, () => (fired60s = true));
      offset = 61_000; // the clock jumps forward past that deadline
      await new Promise<void>((r) => scope.timeout(100, r)); // the wheel has ticked after the jump
      expect(fired60s).toBe(false);
      offset = -120_000; // and back, two minutes
      const t0 = performance.now();
      const deadline = after(2000).then(() => "frozen");
      expect(await Promise.race([new Promise<string>((r) => scope.timeout(50, () => r("fired"))), deadline])).toBe("fired");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(49);
    } finally {
      Date.now = realNow;
      scope.close();
    }
    expect(wheel.live).toBe(0);
  });

  test("an interval keeps its cadence until stopped", async () => {
    const wheel = new TimerWheel();
    const scope = new Scope("t", undefined, wheel);
    let n = 0;
    await new Promise<void>((r) => {
      const t = scope.interval(20, () => {
        if (++n === 5) {
          t.stop();
          r();
        }
      });
    });
    expect(n).toBe(5);
    expect(wheel.live).toBe(0);
  });

  test("refresh postpones a deadline; stop cancels it", async () => {
    const wheel = new TimerWheel();
    const scope = new Scope("t", undefined, wheel);
    let idleAt = 0;
    const start = Date.now();
    const idle = scope.timeout(80, () => (idleAt = Date.now()));
    // a throw here would be caught and logged by the wheel: count instead
    let cancelledRuns = 0;
    const cancelled = scope.timeout(30, () => cancelledRuns++);
    cancelled.stop();
    for (let i = 0; i < 5; i++) {
      await after(40);
      idle.refresh();
    }
    expect(idleAt).toBe(0); // refreshed every 40 ms, never reached 80 ms of silence
    await new Promise<void>((r) => scope.timeout(200, r));
    expect(idleAt - start).toBeGreaterThanOrEqual(200 + 80 - 5);
    expect(cancelledRuns).toBe(0); // ~480 ms past its 30 ms due time
    expect(wheel.live).toBe(0);
  });

  test("closing the owner releases its timers from the wheel and the tracker", () => {
    const wheel = new TimerWheel();
    const tracker = new ResourceTracker();
    const scope = new Scope("session#1", tracker, wheel);
    scope.timeout(1000, () => {});
    scope.interval(1000, () => {});
    scope.own("socket", "peer", null);
    expect(wheel.live).toBe(2);
    expect(tracker.counts()).toMatchObject({ timer: 1, interval: 1, socket: 1 });
    expect(tracker.list().map((e) => e.owner)).toEqual(["session#1", "session#1", "session#1"]);
    scope.close();
    expect(wheel.live).toBe(0);
    expect(tracker.size).toBe(0);
  });

  test("a throwing callback does not stop other timers", async () => {
    const wheel = new TimerWheel();
    const scope = new Scope("t", undefined, wheel);
    const orig = console.error;
    console.error = () => {};
    try {
      scope.timeout(10, () => {
        throw new Error("boom");
      });
      await new Promise<void>((r) => scope.timeout(10, r));
    } finally {
      console.error = orig;
    }
    expect(wheel.live).toBe(0);
  });
});
