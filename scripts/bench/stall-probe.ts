/**
 * Event-loop stall probe for the benchmark processes: a 1 ms interval that
 * records the longest gap between its firings. A latency tail with a long
 * gap in the server came from the server (GC, a long task); one with a long
 * gap only in the generator was measured late by the generator itself.
 */
export interface Stalls {
  /** Longest gap between two firings, ms (the interval is 1 ms). */
  maxGapMs: number;
  /** Gaps of at least 5 ms. */
  gapsOver5ms: number;
}

export class StallProbe {
  #last = performance.now();
  #max = 0;
  #over = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor() {
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
    const out = { maxGapMs: +this.#max.toFixed(2), gapsOver5ms: this.#over };
    this.#max = 0;
    this.#over = 0;
    return out;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
