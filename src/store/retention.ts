// When to trim a device's ping history. Shared by both backends; no I/O here.
import { trimEvery } from "./types.ts";

/**
 * A device's one string key: the gateway's session registry and this store's trim
 * bookkeeping share these strings. NUL cannot occur in a part (validate.ts rejects it).
 */
export function deviceKey(botName: string, deviceId: string): string {
  return `${botName}\0${deviceId}`;
}

/**
 * Rows one trim statement deletes at most. A device far over its retention (after the
 * retention was lowered, say) is caught up over several writes instead of one statement
 * that runs past the MySQL endpoint's deadline, rolls back and is retried forever (or, on
 * SQLite, blocks the event loop).
 */
export const DEFAULT_TRIM_MAX_ROWS = 10_000;

/**
 * Counts, per device, the pings this store wrote since it last trimmed that device.
 * A device it has no count for (never seen, forgotten after a failure, evicted) is
 * trimmed on its next ping, so a count is never lower than the untrimmed rows it wrote.
 */
export class TrimSchedule {
  readonly every: number;
  readonly #since = new Map<string, number>();

  constructor(
    pingRetention: number,
    /** Bound on tracked devices; the oldest entry is dropped beyond it (that device is trimmed next time). */
    readonly maxTracked = 100_000,
  ) {
    this.every = trimEvery(pingRetention);
  }

  /**
   * Records `n` new pings of the device and says whether it must be trimmed in the same write.
   * A due device's count is reset now, before the write runs: the trim then covers these rows,
   * and rows a concurrent write adds are counted against the next trim.
   */
  due(key: string, n: number): boolean {
    const seen = this.#since.get(key);
    if (seen !== undefined && seen + n < this.every) {
      this.#since.set(key, seen + n);
      return false;
    }
    if (seen === undefined && this.#since.size >= this.maxTracked) {
      const oldest = this.#since.keys().next();
      if (!oldest.done) this.#since.delete(oldest.value);
    }
    this.#since.set(key, 0);
    return true;
  }

  /** The write failed or the device's rows changed elsewhere: trim it on its next ping. */
  forget(key: string): void {
    this.#since.delete(key);
  }

  get tracked(): number {
    return this.#since.size;
  }
}

/** Pings per device in a batch, in first-seen order. */
export function countByDevice<T extends { botName: string; deviceId: string; key?: string }>(rows: readonly T[]): Map<string, { row: T; n: number }> {
  const out = new Map<string, { row: T; n: number }>();
  for (const r of rows) {
    const k = r.key ?? deviceKey(r.botName, r.deviceId);
    const e = out.get(k);
    if (e) e.n++;
    else out.set(k, { row: r, n: 1 });
  }
  return out;
}
