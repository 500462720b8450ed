import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log/logger.ts";
import { openStore } from "../../src/store/open.ts";
import { PingWriter } from "../../src/store/ping-writer.ts";
import { StoreError, type PingRecord } from "../../src/store/types.ts";
import * as v from "../../src/store/validate.ts";

const ping = (n: number, over: Partial<PingRecord> = {}): PingRecord => ({
  botName: "LOA.i",
  deviceId: `dev${n % 3}`,
  rttMs: n,
  monitoring: { active_rooms: n },
  at: new Date(Date.UTC(2025, 0, 20) + n).toISOString(),
  ...over,
});
const ids = (ps: PingRecord[]) => ps.map((p) => p.rttMs);

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Rejects after `ms` so a missing event fails the test with a message instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]).finally(() => clearTimeout(t));
}

/** recordPings fake: records batches, can hold calls open (gate) or fail them. */
class FakeStore {
  calls: PingRecord[][] = [];
  active = 0;
  maxActive = 0;
  fail: Error | null = null;
  gate: Promise<void> | null = null;
  /** Refuse a batch with an invalid ping as the real stores do: whole, before writing anything. */
  validate = false;
  #waiters: Array<() => void> = [];

  async recordPings(batch: PingRecord[]): Promise<void> {
    this.calls.push([...batch]);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    for (const w of this.#waiters.splice(0)) w();
    try {
      if (this.validate) batch.forEach(v.ping);
      if (this.gate) await this.gate;
      if (this.fail) throw this.fail;
    } finally {
      this.active--;
    }
  }

  /** Resolves once `n` recordPings calls have started. */
  calledTimes(n: number, ms = 2000): Promise<void> {
    const wait = async () => {
      while (this.calls.length < n) await new Promise<void>((r) => this.#waiters.push(r));
    };
    return within(wait(), ms, `${n} recordPings call(s), saw ${this.calls.length}`);
  }
}

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger("debug", (l) => lines.push(l)) };
}

// Live timers, so "no timer left behind" is checked rather than assumed.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
let live: Set<unknown>;
let created: number;
beforeEach(() => {
  live = new Set();
  created = 0;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t: unknown = realSetTimeout(
      (...a: unknown[]) => {
        live.delete(t);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(t);
    created++;
    return t;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((t: unknown) => {
    live.delete(t);
    realClearTimeout(t as never);
  }) as typeof clearTimeout;
});
afterEach(() => {
  globalThis.setTimeout = realSetTimeout;
  globalThis.clearTimeout = realClearTimeout;
});

describe("PingWriter", () => {
  test("defaults: 500 per batch, 250 ms, 20,000 buffered", () => {
    const w = new PingWriter(new FakeStore(), {}, capture().log);
    expect([w.maxBatch, w.flushMs, w.maxBuffered]).toEqual([500, 250, 20_000]);
    expect(w.stats).toEqual({ buffered: 0, written: 0, dropped: 0, failedBatches: 0, failedPings: 0, invalid: 0 });
    expect(() => new PingWriter(new FakeStore(), { maxBatch: 0 }, capture().log)).toThrow(RangeError);
  });

  test("a full batch is written at once, one call at a time; the rest waits for the timer", async () => {
    const store = new FakeStore();
    const gate = deferred();
    store.gate = gate.promise;
    const w = new PingWriter(store, { maxBatch: 3, flushMs: 60_000 }, capture().log);
    for (let i = 0; i < 8; i++) w.add(ping(i));
    await store.calledTimes(1);
    expect(ids(store.calls[0]!)).toEqual([0, 1, 2]);
    expect(w.stats.buffered).toBe(5);
    gate.resolve();
    await store.calledTimes(2);
    expect(ids(store.calls[1]!)).toEqual([3, 4, 5]);
    await w.flush();
    expect(store.calls.map(ids)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7]]);
    expect(store.maxActive).toBe(1);
    expect(w.stats).toMatchObject({ buffered: 0, written: 8, dropped: 0, failedBatches: 0 });
    await w.close();
    expect(live.size).toBe(0);
  });

  test("a partial batch is written flushMs after its first ping, with ONE timer", async () => {
    const store = new FakeStore();
    const w = new PingWriter(store, { maxBatch: 100, flushMs: 40 }, capture().log);
    const t0 = performance.now();
    w.add(ping(1));
    w.add(ping(2));
    w.add(ping(3));
    expect(created).toBe(1);
    expect(live.size).toBe(1);
    expect([...live].map((t) => (t as { hasRef(): boolean }).hasRef())).toEqual([false]); // unref'd
    expect(store.calls).toHaveLength(0);
    await store.calledTimes(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    expect(ids(store.calls[0]!)).toEqual([1, 2, 3]);
    await w.flush();
    expect(live.size).toBe(0); // nothing buffered, nothing armed
    w.add(ping(4)); // a new first ping arms a new timer
    expect(live.size).toBe(1);
    await store.calledTimes(2);
    expect(ids(store.calls[1]!)).toEqual([4]);
    await w.close();
    expect(w.stats.written).toBe(4);
  });

  test("beyond maxBuffered the oldest pings are dropped and counted", async () => {
    const store = new FakeStore();
    const { lines, log } = capture();
    const w = new PingWriter(store, { maxBatch: 100, flushMs: 60_000, maxBuffered: 5 }, log);
    for (let i = 0; i < 2000; i++) w.add(ping(i));
    expect(w.stats).toMatchObject({ buffered: 5, dropped: 1995 });
    expect(lines.filter((l) => l.includes("dropping the oldest"))).toHaveLength(1); // throttled
    await w.close();
    expect(store.calls.map(ids)).toEqual([[1995, 1996, 1997, 1998, 1999]]);
    expect(w.stats).toMatchObject({ buffered: 0, written: 5, dropped: 1995 });
  });

  test("drops while the store is stuck keep the newest pings, in order", async () => {
    const store = new FakeStore();
    const gate = deferred();
    store.gate = gate.promise;
    const w = new PingWriter(store, { maxBatch: 2, flushMs: 60_000, maxBuffered: 4 }, capture().log);
    for (let i = 0; i < 10; i++) w.add(ping(i));
    await store.calledTimes(1);
    expect(w.stats).toMatchObject({ buffered: 4, dropped: 4 });
    gate.resolve();
    await w.close();
    expect(store.calls.map(ids)).toEqual([[0, 1], [6, 7], [8, 9]]);
    expect(w.stats).toMatchObject({ written: 6, dropped: 4, buffered: 0 });
  });

  test("store errors are counted and logged without secrets, never thrown; later batches still go", async () => {
    const store = new FakeStore();
    store.fail = new StoreError("recordPings failed: connect to http://botgate:s3cret@127.0.0.1:3900 refused");
    const { lines, log } = capture();
    const w = new PingWriter(store, { maxBatch: 2, flushMs: 60_000 }, log);
    w.add(ping(1, { monitoring: { private_note: "내 방 목록" } }));
    w.add(ping(2));
    w.add(ping(3));
    await w.flush(); // resolves, does not reject
    expect(w.stats).toMatchObject({ failedBatches: 2, failedPings: 3, written: 0, buffered: 0 });
    const warned = lines.filter((l) => l.includes("could not store pings"));
    expect(warned).toHaveLength(1); // throttled
    expect(warned[0]).toContain('"failedBatches":1');
    expect(warned[0]).not.toContain("s3cret");
    expect(warned[0]).not.toContain("내 방");
    store.fail = null;
    w.add(ping(4));
    w.add(ping(5));
    await w.close();
    expect(w.stats).toMatchObject({ failedBatches: 2, written: 2 });
  });

  test("a store that throws synchronously is handled like a rejection", async () => {
    const store = {
      recordPings(): Promise<void> {
        throw new Error("sync boom");
      },
    };
    const w = new PingWriter(store, { maxBatch: 1 }, capture().log);
    w.add(ping(1));
    await w.close();
    expect(w.stats).toMatchObject({ failedBatches: 1, failedPings: 1 });
  });

  test("an invalid ping loses only itself: a refused batch is written again without it, in one call", async () => {
    const store = new FakeStore();
    store.validate = true;
    const { lines, log } = capture();
    const w = new PingWriter(store, { maxBatch: 10, flushMs: 60_000 }, log);
    w.add(ping(1));
    w.add(ping(2, { rttMs: -5 }));
    w.add(ping(3, { monitoring: { big: "x".repeat(9000) } }));
    w.add(ping(4));
    await w.close();
    expect(store.calls.map(ids)).toEqual([[1, -5, 3, 4], [1, 4]]);
    expect(w.stats).toMatchObject({ buffered: 0, written: 2, invalid: 2, failedBatches: 0, failedPings: 0 });
    expect(lines.filter((l) => l.includes("invalid ping"))).toHaveLength(1); // throttled
  });

  test("the real SQLite store: an invalid ping in a batch does not cost the others", async () => {
    const store = await openStore({ kind: "sqlite", path: ":memory:" });
    try {
      const w = new PingWriter(store, { maxBatch: 10, flushMs: 60_000 }, capture().log);
      w.add(ping(3)); // dev0
      w.add(ping(6, { monitoring: { big: "가".repeat(8001) } })); // dev0, too long
      w.add(ping(9)); // dev0
      await w.close();
      expect(ids(await store.listPings("LOA.i", "dev0", 10)).sort()).toEqual([3, 9]);
      expect(w.stats).toMatchObject({ written: 2, invalid: 1 });
    } finally {
      await store.close();
    }
  });

  test("close against a failing store gives up after one failed batch: the rest is dropped, not tried batch after batch", async () => {
    const store = new FakeStore();
    store.fail = new Error("request timed out");
    const w = new PingWriter(store, { maxBatch: 2, flushMs: 60_000 }, capture().log);
    for (let i = 0; i < 3; i++) w.add(ping(i)); // one full batch is written (and fails) at once
    await store.calledTimes(1);
    for (let i = 3; i < 7; i++) w.add(ping(i));
    await w.close();
    expect(store.calls.length).toBeLessThanOrEqual(3); // not all 4 batches
    const st = w.stats;
    expect(st.failedPings + st.dropped + st.written).toBe(7);
    expect(st.dropped).toBeGreaterThanOrEqual(1);
    expect(st.buffered).toBe(0);
  });

  test("close writes what is buffered, waits for the write in flight, leaves no timer, then drops", async () => {
    const store = new FakeStore();
    const gate = deferred();
    store.gate = gate.promise;
    const w = new PingWriter(store, { maxBatch: 2, flushMs: 60_000 }, capture().log);
    for (let i = 0; i < 5; i++) w.add(ping(i));
    await store.calledTimes(1);
    let closed = false;
    const closing = w.close().then(() => (closed = true));
    await Promise.resolve();
    expect(closed).toBe(false); // the first batch is still held
    gate.resolve();
    await within(closing, 2000, "close()");
    expect(store.calls.map(ids)).toEqual([[0, 1], [2, 3], [4]]);
    expect(live.size).toBe(0);
    w.add(ping(9));
    expect(w.stats).toMatchObject({ written: 5, dropped: 1, buffered: 0 });
    expect(live.size).toBe(0);
    await w.close(); // idempotent
    expect(store.calls).toHaveLength(3);
  });

  test("close with a timer armed cancels it", async () => {
    const store = new FakeStore();
    const w = new PingWriter(store, { maxBatch: 100, flushMs: 60_000 }, capture().log);
    w.add(ping(1));
    expect(live.size).toBe(1);
    await w.close();
    expect(live.size).toBe(0);
    expect(store.calls.map(ids)).toEqual([[1]]);
  });

  test("over a real SQLite store: every ping written in batches, retention applied", async () => {
    const store = await openStore({ kind: "sqlite", path: ":memory:", pingRetention: 50 });
    const w = new PingWriter(store, { maxBatch: 64, flushMs: 5 }, capture().log);
    for (let i = 0; i < 1000; i++) w.add(ping(i));
    await w.close();
    expect(w.stats).toMatchObject({ written: 1000, dropped: 0, failedBatches: 0 });
    const newest = await store.listPings("LOA.i", "dev0", 1000);
    expect(newest.length).toBeGreaterThanOrEqual(50);
    expect(newest.length).toBeLessThanOrEqual(54); // N + ceil(N/10) - 1
    expect(newest[0]!.rttMs).toBe(999);
    await store.close();
  });
});
