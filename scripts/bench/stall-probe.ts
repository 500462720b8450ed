/**
 * Event-loop stall probe for the benchmark processes: an optional 1 ms interval
 * that records the longest gap between its firings. The interval costs ~2.5% of
 * a core in an idle process, so it runs only when asked (`bench --stall-probe`);
 * the run-queue wait is read from /proc at take() and is always reported. A latency tail with a long
 * gap in the server came from the server (GC, a long task, or the thread
 * waiting for a CPU); one with a long gap only in the generator was measured
 * late by the generator itself. The run-queue wait (Linux schedstat of the JS
 * thread) tells "waiting for a CPU" apart from "busy".
 */
import { readFileSync } from "node:fs";

/** Nanoseconds this thread has waited on a run queue (Linux), or NaN. */
function runQueueWaitNs(): number {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[1]);
  } catch {
    return NaN;
  }
}

export interface Stalls {
  /** Longest gap between two firings, ms (the interval is 1 ms); NaN without the timer. */
  maxGapMs: number;
  /** Gaps of at least 5 ms; NaN without the timer. */
  gapsOver5ms: number;
  /** Time the JS thread was runnable but waiting for a CPU, ms (NaN off Linux). */
  runQueueWaitMs: number;
}

export class StallProbe {
  #last = performance.now();
  #max = 0;
  #over = 0;
  #waitNs = runQueueWaitNs();
  readonly #timer: ReturnType<typeof setInterval> | undefined;

  constructor(withTimer: boolean) {
    if (!withTimer) return;
    this.#timer = setInterval(() => {
      const now = performance.now();
      const gap = now - this.#last;
      this.#last = now;
      if (gap > this.#max) this.#max = gap;
      if (gap >= 5) this.#over++;
    }, 1);
  }

  /** The figures since the previous take() (or the start), then starts over. */
  take(): Stalls {
    const waitNs = runQueueWaitNs();
    const timed = this.#timer !== undefined;
    const out = { maxGapMs: timed ? +this.#max.toFixed(2) : NaN, gapsOver5ms: timed ? this.#over : NaN, runQueueWaitMs: Math.round((waitNs - this.#waitNs) / 1e6) };
    this.#waitNs = waitNs;
    this.#max = 0;
    this.#over = 0;
    return out;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
