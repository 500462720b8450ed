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

  test("bounded: past maxKeys the table starts over, so a forgotten key passes again", () => {
    const g = new RateGate(60_000, 3);
    for (const k of ["a", "b", "c"]) expect(g.pass(k, 0)).toBe(true);
    expect(g.pass("a", 1)).toBe(false);
    expect(g.pass("d", 2)).toBe(true); // the fourth key clears the table
    expect(g.pass("a", 3)).toBe(true);
    expect(g.pass("d", 4)).toBe(false); // "d" was added after the clear: still gated
  });
});
