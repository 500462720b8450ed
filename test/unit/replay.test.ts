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

  test("many keys in one bucket (the table grows), colliding low bits, 0 and the largest key: each accepted once", () => {
    const c = new ReplayCache(300_000);
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const keys = new Set<number>([0, 1, 2 ** 52 - 1, 2 ** 52 - 2]);
    for (let i = 0; i < 500; i++) keys.add(i * 2 ** 32 + 5); // same low 32 bits: one long probe chain
    while (keys.size < 20_000) keys.add(Math.floor(rand() * 2 ** 52));
    const list = [...keys];
    for (const k of list) expect(c.remember(1_000_000, k)).toBe(true);
    expect(c.size).toBe(list.length);
    for (const k of list) expect(c.remember(1_000_000, k)).toBe(false);
    // the same keys under another bucket's timestamp are other entries
    for (const k of list.slice(0, 100)) expect(c.remember(2_000_000, k)).toBe(true);
    for (let i = 0; i < 200; i++) expect(c.remember(1_000_000, 2 ** 51 + i * 2 ** 32 + 5)).toBe(true);
    expect(c.size).toBe(list.length + 300);
  });

  test("prune of the bucket used last: later keys go to a fresh bucket", () => {
    const c = new ReplayCache(300_000, 10_000);
    expect(c.remember(5_000, 9)).toBe(true);
    c.prune(1_000_000);
    expect(c.size).toBe(0);
    expect(c.remember(5_000, 9)).toBe(true);
    expect(c.remember(5_000, 9)).toBe(false);
    expect(c.size).toBe(1);
  });

  test("macKey is a safe integer from the first 52 bits", () => {
    const a = new Uint8Array(32).fill(0xff);
    expect(Number.isSafeInteger(macKey(a))).toBe(true);
    expect(macKey(a)).toBe(2 ** 52 - 1);
    const b = new Uint8Array(32);
    b[6] = 0x10;
    expect(macKey(b)).toBe(1);
    const c = new Uint8Array(40);
    c.set(b, 5);
    expect(macKey(c, 5)).toBe(1);
  });
});
