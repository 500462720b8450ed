/**
 * "Seen this logId for this bot recently?" Two generations of sets per bot:
 * an id is remembered for at least `windowMs` (at most twice that), with O(1)
 * work per message and no timers. Memory is capped for all bots together:
 * each bot gets an equal share of maxEntries (at least 2), and when a
 * generation reaches half its share it rotates early, which shortens that
 * bot's window under a flood rather than growing without bound.
 */
export class Dedupe {
  readonly #bots = new Map<string, { cur: Set<string>; prev: Set<string>; rotatedAt: number }>();
  readonly #genCap: number;

  constructor(
    private readonly windowMs: number,
    maxEntries: number,
    bots = 1,
  ) {
    this.#genCap = Math.max(1, Math.floor(maxEntries / Math.max(1, bots) / 2));
  }

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /** True if (bot, logId) was accepted within the window; otherwise records it and returns false. */
  seen(bot: string, logId: string, now: number): boolean {
    let g = this.#bots.get(bot);
    if (g === undefined) {
      g = { cur: new Set(), prev: new Set(), rotatedAt: now };
      this.#bots.set(bot, g);
    } else if (now - g.rotatedAt >= this.windowMs) {
      g.prev = now - g.rotatedAt >= 2 * this.windowMs ? new Set() : g.cur;
      g.cur = new Set();
      g.rotatedAt = now;
    }
    if (g.cur.has(logId) || g.prev.has(logId)) return true;
    if (g.cur.size >= this.#genCap) {
      g.prev = g.cur;
      g.cur = new Set();
      g.rotatedAt = now;
    }
    g.cur.add(logId);
    return false;
  }

  /** The message was never processed (dropped before work started): let a resend through. */
  forget(bot: string, logId: string): void {
    const g = this.#bots.get(bot);
    if (g === undefined) return;
    g.cur.delete(logId);
    g.prev.delete(logId);
  }

  get size(): number {
    let n = 0;
    for (const g of this.#bots.values()) n += g.cur.size + g.prev.size;
    return n;
  }

  clear(): void {
    this.#bots.clear();
  }
}
