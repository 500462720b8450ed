import { describe, expect, test } from "bun:test";
import { RateGate } from "../../src/log/rate-gate.ts";

describe("RateGate", () => {
  test("one pass per key per interval; held-back calls are counted for the next pass", () => {
    const g = new RateGate(1000, 10);
    expect(g.pass("a", 0)).toBe(true);
    expect(g.heldBack).toBe(0);
    expect(g.pass("a", 999)).toBe(false);
    expect(g.pass("a", 500)).toBe(false);
    expect(g.pass("b", 999)).toBe(true); // keys are independent
    expect(g.pass("a", 1000)).toBe(true);
    expect(g.heldBack).toBe(2);
    expect(g.pass("a", 2000)).toBe(true);
    expect(g.heldBack).toBe(0);
  });

  test("by default it runs on a monotonic clock: a wall-clock step back does not silence a key", () => {
    const realNow = Date.now;
    const g = new RateGate(5, 10);
    try {
      expect(g.pass("k")).toBe(true);
      Date.now = () => realNow() - 3_600_000; // the wall clock steps back an hour
      const t0 = performance.now();
      while (performance.now() - t0 < 6) {} // the interval passes (a busy wait: no timers involved)
      expect(g.pass("k")).toBe(true);
    } finally {
      Date.now = realNow;
    }
  });

  test("bounded: past maxKeys the table starts over, so a forgotten key passes again", () => {
    const g = new RateGate(60_000, 3);
    for (const k of ["a", "b", "c"]) expect(g.pass(k, 0)).toBe(true);
    expect(g.pass("a", 1)).toBe(false);
    expect(g.pass("d", 2)).toBe(true); // the fourth key clears the table
    expect(g.pass("a", 3)).toBe(true);
    expect(g.pass("d", 4)).toBe(false); // "d" was added after the clear: still gated
  });
});
