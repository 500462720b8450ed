/**
 * Event-loop lag sampler (runtime-neutral): a timer that should fire every
 * `intervalMs`; how late it fires is the lag. Owned by a scope.
 */
import { Histogram } from "../metrics/primitives.ts";
import type { Scope } from "../resources/scope.ts";

export class LoopLagSampler {
  /** Lag of the latest tick, ms. */
  lastMs = 0;
  /** Worst lag since start, ms. */
  maxMs = 0;
  readonly histogram = new Histogram([1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000]);

  constructor(private readonly clock: () => number = () => performance.now()) {}

  start(owner: Scope, intervalMs = 500): void {
    let prev = this.clock();
    owner.interval(intervalMs, () => {
      const t = this.clock();
      this.record(t - prev - intervalMs);
      prev = t;
    }, "loop-lag");
  }

  record(lagMs: number): void {
    const lag = Math.max(0, lagMs);
    this.lastMs = lag;
    if (lag > this.maxMs) this.maxMs = lag;
    this.histogram.observe(lag);
  }
}
