/**
 * Remembers accepted auth signatures until their timestamp leaves the
 * acceptance window, so a signed auth block is accepted once. Entries are
 * bucketed by the auth timestamp: a replay carries the same timestamp, so
 * one bucket is consulted, and whole buckets expire at once.
 *
 * Keys are the first 52 bits of the MAC (a number, ~40 B per entry instead of
 * a 64-char string); without the secret nobody can aim for a collision.
 */
export class ReplayCache {
  readonly #buckets = new Map<number, Set<number>>();
  readonly #bucketMs: number;
  readonly #windowMs: number;
  #size = 0;

  constructor(windowMs: number, bucketMs = 10_000) {
    this.#windowMs = windowMs;
    this.#bucketMs = bucketMs;
  }

  /** True if new (and now remembered); false if this key was already seen. */
  remember(timestampMs: number, key: number): boolean {
    const b = Math.floor(timestampMs / this.#bucketMs);
    let set = this.#buckets.get(b);
    if (set === undefined) {
      set = new Set();
      this.#buckets.set(b, set);
    }
    if (set.has(key)) return false;
    set.add(key);
    this.#size++;
    return true;
  }

  /** Drop buckets whose every timestamp is outside the window by now. */
  prune(nowMs: number): void {
    for (const [b, set] of this.#buckets) {
      if ((b + 1) * this.#bucketMs + this.#windowMs < nowMs) {
        this.#size -= set.size;
        this.#buckets.delete(b);
      }
    }
  }

  get size(): number {
    return this.#size;
  }
}

/** First 52 bits of a MAC (at `mac[at..]`) as a safe integer. */
export function macKey(mac: Uint8Array, at = 0): number {
  return (((mac[at]! << 24) | (mac[at + 1]! << 16) | (mac[at + 2]! << 8) | mac[at + 3]!) >>> 0) * 0x100000 + ((mac[at + 4]! << 12) | (mac[at + 5]! << 4) | (mac[at + 6]! >> 4));
}
