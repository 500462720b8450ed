/**
 * At most one pass per key per interval: for logs and notices that a
 * misbehaving peer could otherwise repeat without limit. Bounded: the table is
 * cleared when it would grow past `maxKeys` (a cleared key simply passes again).
 */
export class RateGate {
  readonly #entries = new Map<string, { at: number; held: number }>();
  /** Calls held back for the key of the last successful pass, between it and the pass before. */
  heldBack = 0;

  constructor(
    readonly intervalMs: number,
    readonly maxKeys: number,
  ) {}

  /**
   * True if `key` may pass at `now` (ms; monotonic by default, so a wall-clock step
   * back cannot silence a key for the length of the step); a refused call is counted
   * in the next pass's heldBack.
   */
  pass(key: string, now: number = performance.now()): boolean {
    const e = this.#entries.get(key);
    if (e !== undefined && now - e.at < this.intervalMs) {
      e.held++;
      return false;
    }
    this.heldBack = e?.held ?? 0;
    if (e !== undefined) {
      e.at = now;
      e.held = 0;
    } else {
      if (this.#entries.size >= this.maxKeys) this.#entries.clear();
      this.#entries.set(key, { at: now, held: 0 });
    }
    return true;
  }

  clear(): void {
    this.#entries.clear();
  }
}
