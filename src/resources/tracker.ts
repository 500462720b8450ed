/**
 * Central registry of live resources (sessions, timers, intervals, sockets,
 * jobs). Each entry names its owner; a resource still registered after its
 * owner has ended is a leak, which `sweep()` reports and reclaims.
 *
 * Entries are the resources themselves (objects implementing Tracked), so
 * tracking costs one Set slot, not a closure pair per resource: an idle phone
 * holds three (its session, its socket, its heartbeat timer).
 */
/** Every resource kind, the one list: counts(), /metrics and /api/resources?kind= use it. */
export const RESOURCE_KINDS = ["session", "socket", "timer", "interval", "job", "task", "listener"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface ResourceEntry {
  id: number;
  kind: ResourceKind;
  owner: string;
  label: string;
  createdAt: number;
}

/** A tracked resource. `reclaim()` frees it when its owner is gone. */
export interface Tracked {
  readonly id: number;
  readonly kind: ResourceKind;
  readonly label: string;
  readonly createdAt: number;
  ownerName(): string;
  ownerAlive(): boolean;
  reclaim(): void;
}

export interface TrackedHandle {
  readonly id: number;
  /** The resource ended normally: stop tracking it. */
  release(): void;
}

const always = () => true;

/** A resource registered by callbacks (used where the resource is not an object of ours). */
class CallbackEntry implements Tracked, TrackedHandle {
  readonly createdAt = Date.now();
  constructor(
    private readonly tracker: ResourceTracker,
    readonly id: number,
    readonly kind: ResourceKind,
    private readonly owner: string,
    readonly label: string,
    private readonly reclaimFn: () => void,
    private readonly aliveFn: () => boolean,
  ) {}
  ownerName(): string {
    return this.owner;
  }
  ownerAlive(): boolean {
    return this.aliveFn();
  }
  reclaim(): void {
    this.reclaimFn();
  }
  release(): void {
    this.tracker.remove(this);
  }
}

let nextId = 1;
export function nextResourceId(): number {
  return nextId++;
}

export class ResourceTracker {
  readonly #live = new Set<Tracked>();
  #leaksReleased = 0;

  add(r: Tracked): void {
    this.#live.add(r);
  }

  remove(r: Tracked): void {
    this.#live.delete(r);
  }

  track(kind: ResourceKind, owner: string, label: string, reclaim: () => void, ownerAlive: () => boolean = always): TrackedHandle {
    const e = new CallbackEntry(this, nextResourceId(), kind, owner, label, reclaim, ownerAlive);
    this.#live.add(e);
    return e;
  }

  counts(): Record<ResourceKind, number> {
    const c = Object.fromEntries(RESOURCE_KINDS.map((k) => [k, 0])) as Record<ResourceKind, number>;
    for (const e of this.#live) c[e.kind]++;
    return c;
  }

  get size(): number {
    return this.#live.size;
  }

  list(limit = 1000): ResourceEntry[] {
    const out: ResourceEntry[] = [];
    for (const e of this.#live) {
      if (out.length >= limit) break;
      out.push(entryOf(e));
    }
    return out;
  }

  get leaksReleased(): number {
    return this.#leaksReleased;
  }

  /** Reclaim every resource whose owner has ended; returns what was found. */
  sweep(): ResourceEntry[] {
    const leaked: ResourceEntry[] = [];
    for (const e of [...this.#live]) {
      if (e.ownerAlive()) continue;
      leaked.push(entryOf(e));
      this.#live.delete(e);
      this.#leaksReleased++;
      try {
        e.reclaim();
      } catch {
        // a failing reclaim must not stop the sweep
      }
    }
    return leaked;
  }
}

function entryOf(e: Tracked): ResourceEntry {
  return { id: e.id, kind: e.kind, owner: e.ownerName(), label: e.label, createdAt: e.createdAt };
}
