/**
 * Periodic leak sweep over the ResourceTracker: anything still registered
 * after its owner ended is counted (per kind), logged at warn, and released.
 * The sweep interval itself is owned by the scope passed to start().
 */
import type { Logger } from "../log/logger.ts";
import { LabeledCounter } from "../metrics/primitives.ts";
import type { Scope } from "./scope.ts";
import type { ResourceEntry, ResourceTracker } from "./tracker.ts";

export const DEFAULT_SWEEP_INTERVAL_MS = 30_000;

export class Sweeper {
  /** Leaks found and released, by resource kind. */
  readonly leaks = new LabeledCounter("kind");
  sweeps = 0;

  constructor(
    readonly tracker: ResourceTracker,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(owner: Scope, intervalMs = DEFAULT_SWEEP_INTERVAL_MS): void {
    owner.interval(intervalMs, () => this.sweep(), "resource-sweep");
  }

  sweep(): ResourceEntry[] {
    this.sweeps++;
    const leaked = this.tracker.sweep();
    const t = this.now();
    for (const e of leaked) {
      this.leaks.inc(e.kind);
      this.log.warn("resource outlived its owner; released", { kind: e.kind, owner: e.owner, label: e.label, ageMs: t - e.createdAt });
    }
    return leaked;
  }
}
