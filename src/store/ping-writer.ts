// Write-behind buffer for ping history: the gateway adds a ping and moves on; pings reach
// the store in batches (one recordPings call each). Runtime-neutral: setTimeout only.
// The history is monitoring data: when the store is slow or down, the oldest pings are
// dropped and counted; nothing here ever blocks the caller or grows without bound.
import type { Logger } from "../log/logger.ts";
import { RateGate } from "../log/rate-gate.ts";
import { StoreError, type DeviceStore, type PingRecord } from "./types.ts";
import * as v from "./validate.ts";

export interface PingWriterOptions {
  /** Pings per recordPings call; a full batch is written at once. */
  maxBatch?: number;
  /** A partial batch is written this long after its first ping was added. */
  flushMs?: number;
  /** Beyond this many waiting pings, the oldest is dropped. */
  maxBuffered?: number;
}

export interface PingWriterStats {
  /** Waiting to be written. */
  buffered: number;
  /** Stored (their recordPings call resolved). */
  written: number;
  /** Dropped unwritten: the oldest beyond maxBuffered, and pings added after close(). */
  dropped: number;
  /** recordPings calls that failed; their pings are lost (not retried) and counted in failedPings. */
  failedBatches: number;
  failedPings: number;
  /** Refused by the store as invalid input (validate.ts); the rest of their batch is written without them. */
  invalid: number;
}

/** Logs a kind of trouble at most once per this interval (the first one at once). */
const LOG_EVERY_MS = 10_000;
/** Compact the queue's backing array once this many slots at its head are spent. */
const COMPACT_AT = 1024;

export class PingWriter {
  readonly maxBatch: number;
  readonly flushMs: number;
  readonly maxBuffered: number;

  // FIFO queue: live items are #items[#head..]; the head is compacted away in chunks.
  #items: (PingRecord | undefined)[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inflight: Promise<void> | null = null;
  #closed = false;
  #written = 0;
  #dropped = 0;
  #failedBatches = 0;
  #failedPings = 0;
  #invalid = 0;
  readonly #logGate = new RateGate(LOG_EVERY_MS, 16);

  constructor(
    private readonly store: Pick<DeviceStore, "recordPings">,
    opts: PingWriterOptions = {},
    private readonly log: Logger,
  ) {
    this.maxBatch = positive("maxBatch", opts.maxBatch ?? 500);
    this.flushMs = nonNegative("flushMs", opts.flushMs ?? 250);
    this.maxBuffered = positive("maxBuffered", opts.maxBuffered ?? 20_000);
  }

  get stats(): PingWriterStats {
    return {
      buffered: this.#size,
      written: this.#written,
      dropped: this.#dropped,
      failedBatches: this.#failedBatches,
      failedPings: this.#failedPings,
      invalid: this.#invalid,
    };
  }

  /** Never throws, never waits. */
  add(p: PingRecord): void {
    if (this.#closed) {
      this.#dropped++;
      this.#note("closed", "ping added after the ping writer was closed; dropped");
      return;
    }
    // Not validated here: the store validates every batch (once); a batch it refuses
    // as invalid input is checked here ping by ping and written again without the bad ones.
    this.#items.push(p);
    if (this.#size > this.maxBuffered) {
      this.#take(1);
      this.#dropped++;
      this.#note("overflow", "ping buffer full; dropping the oldest pings", { maxBuffered: this.maxBuffered });
    }
    if (this.#size >= this.maxBatch) void this.#pump(false);
    else if (this.#inflight === null) this.#arm();
  }

  /** Writes what is buffered now (after any write in flight); resolves when done. Never rejects. */
  flush(): Promise<void> {
    return this.#pump(true);
  }

  /** Stops taking pings, cancels the timer, writes what is buffered. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#disarm();
    return this.#pump(true);
  }

  get #size(): number {
    return this.#items.length - this.#head;
  }

  #take(n: number): PingRecord[] {
    const end = this.#head + Math.min(n, this.#size);
    const out = this.#items.slice(this.#head, end) as PingRecord[];
    this.#items.fill(undefined, this.#head, end);
    this.#head = end;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  #arm(): void {
    if (this.#timer !== null || this.#closed || this.#size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#pump(true);
    }, this.flushMs);
    (this.#timer as { unref?: () => void }).unref?.(); // Bun/Node; Deno returns a number
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Starts a drain unless one is in flight (at most one recordPings call at a time).
   * `all`: write everything buffered; otherwise only full batches.
   */
  #pump(all: boolean): Promise<void> {
    if (this.#inflight !== null) return all ? this.#inflight.then(() => this.#pump(true)) : this.#inflight;
    if (this.#size === 0 || (!all && this.#size < this.maxBatch)) return Promise.resolve();
    this.#disarm();
    const run = this.#drain(all).finally(() => {
      this.#inflight = null;
      if (this.#size >= this.maxBatch) void this.#pump(false);
      else this.#arm();
    });
    this.#inflight = run;
    return run;
  }

  async #drain(all: boolean): Promise<void> {
    // `all` writes at most what was buffered when it started, so steady adds cannot keep it going.
    let budget = all ? this.#size : Number.POSITIVE_INFINITY;
    while (this.#size > 0 && budget > 0 && (all || this.#size >= this.maxBatch)) {
      const batch = this.#take(Math.min(this.maxBatch, budget));
      budget -= batch.length;
      const ok = await this.#write(batch, true);
      if (!ok && this.#closed && this.#size > 0) {
        // Shutting down against a failing (or stalled) store: one timed-out batch is
        // enough; the rest is dropped rather than holding the exit for every batch.
        this.#dropped += this.#size;
        this.#take(this.#size);
        this.#note("closed", "store failing at shutdown; buffered pings dropped");
      }
    }
  }

  /**
   * One recordPings call. `sift`: if the store refuses the batch as invalid input
   * (stores validate all of it before any SQL, so nothing was written), drop the
   * pings that fail validation and write the others in one more call.
   */
  async #write(batch: PingRecord[], sift: boolean): Promise<boolean> {
    try {
      await this.store.recordPings(batch);
      this.#written += batch.length;
      return true;
    } catch (err) {
      if (err instanceof StoreError && err.invalidInput) {
        const good = sift ? batch.filter(valid) : [];
        const bad = batch.length - good.length;
        if (bad > 0) {
          this.#invalid += bad;
          this.#note("invalid", "invalid ping not stored", { error: err });
        }
        if (good.length > 0 && bad > 0) return this.#write(good, false);
        if (bad > 0) return true;
      }
      this.#failedBatches++;
      this.#failedPings += batch.length;
      this.#note("failed", "could not store pings; batch lost", { error: err, batch: batch.length });
      return false;
    }
  }

  /** Throttled warning with the running counters (never ping contents). */
  #note(kind: string, msg: string, fields: Record<string, unknown> = {}): void {
    if (!this.#logGate.pass(kind)) return;
    const { buffered, dropped, failedBatches, failedPings, invalid } = this.stats;
    this.log.warn(msg, { ...fields, buffered, dropped, failedBatches, failedPings, invalid });
  }
}

function positive(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`PingWriter ${name} must be an integer >= 1`);
  return n;
}

function nonNegative(name: string, n: number): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`PingWriter ${name} must be a number >= 0`);
  return n;
}

function valid(p: PingRecord): boolean {
  try {
    v.ping(p);
    return true;
  } catch {
    return false;
  }
}
