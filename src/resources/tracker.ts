/**
 * Central registry of live resources (sessions, timers, intervals, sockets,
 * jobs). Each entry names its owner; a resource still registered after its
 * owner has ended is a leak, which `sweep()` reports and releases.
 */
export type ResourceKind = "session" | "socket" | "timer" | "interval" | "job" | "task" | "listener";

export interface ResourceEntry {
  id: number;
  kind: ResourceKind;
  owner: string;
  label: string;
  createdAt: number;
}

export interface TrackedHandle {
  readonly id: number;
  release(): void;
}

interface LiveEntry extends ResourceEntry {
  release: () => void;
  ownerAlive: () => boolean;
}

const always = () => true;

export class ResourceTracker {
  #next = 1;
  #live = new Map<number, LiveEntry>();
  #leaksReleased = 0;

  track(kind: ResourceKind, owner: string, label: string, release: () => void, ownerAlive: () => boolean = always): TrackedHandle {
    const id = this.#next++;
    const entry: LiveEntry = { id, kind, owner, label, createdAt: Date.now(), release, ownerAlive };
    this.#live.set(id, entry);
    const live = this.#live;
    return {
      id,
      release() {
        live.delete(id);
      },
    };
  }

  counts(): Record<ResourceKind, number> {
    const c: Record<ResourceKind, number> = { session: 0, socket: 0, timer: 0, interval: 0, job: 0, task: 0, listener: 0 };
    for (const e of this.#live.values()) c[e.kind]++;
    return c;
  }

  get size(): number {
    return this.#live.size;
  }

  list(limit = 1000): ResourceEntry[] {
    const out: ResourceEntry[] = [];
    for (const e of this.#live.values()) {
      if (out.length >= limit) break;
      out.push({ id: e.id, kind: e.kind, owner: e.owner, label: e.label, createdAt: e.createdAt });
    }
    return out;
  }

  get leaksReleased(): number {
    return this.#leaksReleased;
  }

  /** Release every resource whose owner has ended; returns what was found. */
  sweep(): ResourceEntry[] {
    const leaked: ResourceEntry[] = [];
    for (const e of this.#live.values()) {
      if (e.ownerAlive()) continue;
      leaked.push({ id: e.id, kind: e.kind, owner: e.owner, label: e.label, createdAt: e.createdAt });
      this.#live.delete(e.id);
      this.#leaksReleased++;
      try {
        e.release();
      } catch {
        // a failing release must not stop the sweep
      }
    }
    return leaked;
  }
}
