import { describe, expect, test } from "bun:test";
import { macKey, ReplayCache } from "../../src/protocol/replay.ts";

describe("ReplayCache", () => {
  test("accepts a key once per timestamp, independent keys independently", () => {
    const c = new ReplayCache(300_000);
    expect(c.remember(1_000_000, 42)).toBe(true);
    expect(c.remember(1_000_000, 42)).toBe(false);
    expect(c.remember(1_000_000, 43)).toBe(true);
    expect(c.remember(1_000_001, 44)).toBe(true);
    expect(c.size).toBe(3);
  });

  test("prune drops only buckets entirely outside the window", () => {
    const c = new ReplayCache(300_000, 10_000);
    c.remember(0, 1);
    c.remember(500_000, 2);
    c.prune(310_001);
    expect(c.size).toBe(1);
    expect(c.remember(500_000, 2)).toBe(false);
    expect(c.remember(0, 1)).toBe(true); // forgotten: the window check rejects it before the cache is asked
  });

  test("macKey is a safe integer from the first 52 bits", () => {
    const a = new Uint8Array(32).fill(0xff);
    expect(Number.isSafeInteger(macKey(a))).toBe(true);
    expect(macKey(a)).toBe(2 ** 52 - 1);
    const b = new Uint8Array(32);
    b[6] = 0x10;
    expect(macKey(b)).toBe(1);
  });
});
