/** One time bucket: an open-addressing set of keys (stored as key + 1; 0 is empty), linear probing. */
class Bucket {
  table = new Float64Array(16);
  mask = 15;
  count = 0;
}

/** Lowest bits of a key, for the table index (keys are MAC bits, uniformly distributed). */
const slotOf = (key: number, mask: number): number => key & mask;

/**
 * Remembers accepted auth signatures until their timestamp leaves the
 * acceptance window, so a signed auth block is accepted once. Entries are
 * bucketed by the auth timestamp: a replay carries the same timestamp, so
 * one bucket is consulted, and whole buckets expire at once.
 *
 * Keys are the first 52 bits of the MAC (a number; without the secret nobody can
 * aim for a collision, and only MACs that verified are remembered, so they are
 * uniformly distributed). A bucket is a Float64Array hash set (16-32 B per entry,
 * off the JS heap, no per-entry objects), not a Set. Buckets are 1 s by default:
 * events arrive roughly in timestamp order, so the table being filled is small and
 * stays in cache (10 s buckets at 100k events/s made every insert a cache miss).
 */
export class ReplayCache {
  readonly #buckets = new Map<number, Bucket>();
  readonly #bucketMs: number;
  readonly #windowMs: number;
  #size = 0;
  #forgottenBefore = -Infinity;
  /** The bucket of the last call (events arrive in timestamp order, so usually the same one). */
  #lastB = NaN;
  #last: Bucket | null = null;

  constructor(windowMs: number, bucketMs = 1_000) {
    this.#windowMs = windowMs;
    this.#bucketMs = bucketMs;
  }

  /** True if new (and now remembered); false if this key was already seen. */
  remember(timestampMs: number, key: number): boolean {
    const b = Math.floor(timestampMs / this.#bucketMs);
    let bucket = this.#last;
    if (b !== this.#lastB || bucket === null) {
      bucket = this.#buckets.get(b) ?? null;
      if (bucket === null) {
        bucket = new Bucket();
        this.#buckets.set(b, bucket);
      }
      this.#lastB = b;
      this.#last = bucket;
    }
    const stored = key + 1;
    let table = bucket.table;
    let mask = bucket.mask;
    let i = slotOf(key, mask);
    for (let v = table[i]!; v !== 0; v = table[i]!) {
      if (v === stored) return false;
      i = (i + 1) & mask;
    }
    table[i] = stored;
    this.#size++;
    if (++bucket.count * 2 > mask) {
      // Load above 1/2: double and re-insert.
      const old = table;
      mask = mask * 2 + 1;
      table = new Float64Array(mask + 1);
      for (let k = 0; k < old.length; k++) {
        const v = old[k]!;
        if (v === 0) continue;
        let j = slotOf(v - 1, mask);
        while (table[j] !== 0) j = (j + 1) & mask;
        table[j] = v;
      }
      bucket.table = table;
      bucket.mask = mask;
    }
    return true;
  }

  /** Drop buckets whose every timestamp is outside the window by now. */
  prune(nowMs: number): void {
    for (const [b, bucket] of this.#buckets) {
      if ((b + 1) * this.#bucketMs + this.#windowMs < nowMs) {
        this.#forgottenBefore = Math.max(this.#forgottenBefore, (b + 1) * this.#bucketMs);
        this.#size -= bucket.count;
        this.#buckets.delete(b);
        if (bucket === this.#last) this.#last = null;
      }
    }
  }

  get size(): number {
    return this.#size;
  }

  /** Forgets every key without moving forgottenBefore: for a benchmark that must measure memory without the cache (its later blocks are all new). */
  clear(): void {
    this.#buckets.clear();
    this.#size = 0;
    this.#last = null;
  }

  /**
   * Timestamps below this may have been forgotten by prune(): they cannot be checked for
   * a replay. Normally older than the window anyway; not after the wall clock steps back.
   */
  get forgottenBefore(): number {
    return this.#forgottenBefore;
  }
}

/** First 52 bits of a MAC (at `mac[at..]`) as a safe integer. */
export function macKey(mac: Uint8Array, at = 0): number {
  return (((mac[at]! << 24) | (mac[at + 1]! << 16) | (mac[at + 2]! << 8) | mac[at + 3]!) >>> 0) * 0x100000 + ((mac[at + 4]! << 12) | (mac[at + 5]! << 4) | (mac[at + 6]! >> 4));
}
