import { monotonicNow, type TimerWheel, wheel as sharedWheel } from "./timer-wheel.ts";
import { nextResourceId, type ResourceKind, type ResourceTracker, type Tracked } from "./tracker.ts";

/** Something a scope owns and releases when it closes. */
interface Child extends Tracked {
  /** Index in the owner's child list (-1 when not owned), for O(1) removal. */
  scopeSlot: number;
  release(): void;
}

/** A timer callback as a method, so an owner with several timers needs no closures. */
export interface TimerTarget {
  onTimer(timer: ScopedTimer): void;
}

type TimerCallback = (() => void) | TimerTarget;

/**
 * An owner of timers and other resources. Closing it aborts its AbortSignal
 * and releases everything it owns. Sessions, the gateway and the pool each
 * own one. The AbortController is created on first use of `signal`, since
 * most phone sessions never need one (it costs ~0.5 KB).
 */
export class Scope {
  readonly #name: string | { readonly scopeName: string };
  readonly #tracker: ResourceTracker | undefined;
  readonly #wheel: TimerWheel;
  #controller: AbortController | null = null;
  #children: Child[] | null = null;
  #closed = false;
  #reason: unknown = undefined;

  /** `name` may be an object that names itself on demand (no string per session). */
  constructor(name: string | { readonly scopeName: string }, tracker?: ResourceTracker, timers: TimerWheel = sharedWheel) {
    this.#name = name;
    this.#tracker = tracker;
    this.#wheel = timers;
  }

  get name(): string {
    return typeof this.#name === "string" ? this.#name : this.#name.scopeName;
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#closed) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A one-shot timer owned by this scope; `refresh()` restarts it cheaply. */
  timeout(ms: number, fn: TimerCallback, label = "timeout"): ScopedTimer {
    return this.#adopt(new ScopedTimer(this, this.#wheel, "timer", label, ms, fn));
  }

  interval(ms: number, fn: TimerCallback, label = "interval"): ScopedTimer {
    return this.#adopt(new ScopedTimer(this, this.#wheel, "interval", label, ms, fn));
  }

  /** Register another resource (a socket, a marker); `target.destroy()` runs when the scope closes. */
  own(kind: ResourceKind, label: string, target: { destroy(): void } | null = null): { release(): void } {
    if (this.#closed) {
      target?.destroy();
      return OwnedResource.dead;
    }
    return this.#adopt(new OwnedResource(this, kind, label, target));
  }

  /** Abort the signal and release everything owned, once. */
  close(reason?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const children = this.#children;
    this.#children = null;
    if (children) {
      for (const c of children) {
        c.scopeSlot = -1;
        this.#forget(c);
        c.release();
      }
    }
  }

  get ownedCount(): number {
    return this.#children?.length ?? 0;
  }

  /** @internal a child ended on its own. */
  detach(c: Child): void {
    const list = this.#children;
    const i = c.scopeSlot;
    if (list === null || i < 0 || list[i] !== c) return;
    const last = list.pop()!;
    if (last !== c) {
      list[i] = last;
      last.scopeSlot = i;
    }
    c.scopeSlot = -1;
    this.#forget(c);
  }

  #forget(c: Child): void {
    this.#tracker?.remove(c);
  }

  #adopt<T extends Child>(c: T): T {
    if (this.#closed) {
      c.release();
      return c;
    }
    const list = (this.#children ??= []);
    c.scopeSlot = list.length;
    list.push(c);
    this.#tracker?.add(c);
    return c;
  }
}

class OwnedResource implements Child {
  static readonly dead = { release() {} };
  scopeSlot = -1;
  readonly id = nextResourceId();
  readonly createdAt = Date.now();
  #released = false;
  constructor(
    private readonly owner: Scope,
    readonly kind: ResourceKind,
    readonly label: string,
    private readonly target: { destroy(): void } | null,
  ) {}
  ownerName(): string {
    return this.owner.name;
  }
  ownerAlive(): boolean {
    return !this.owner.closed;
  }
  reclaim(): void {
    this.release();
  }
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.owner.detach(this);
    this.target?.destroy();
  }
}

/** A timer on the shared wheel, owned by a scope and tracked while live. */
export class ScopedTimer implements Child {
  scopeSlot = -1;
  readonly id = nextResourceId();
  readonly createdAt = Date.now();
  due: number;
  stopped = false;
  constructor(
    private readonly owner: Scope,
    private readonly timers: TimerWheel,
    readonly kind: "timer" | "interval",
    readonly label: string,
    private readonly ms: number,
    private readonly fn: TimerCallback,
  ) {
    this.due = monotonicNow() + ms; // createdAt is wall-clock (shown to operators); due times are monotonic
    if (!owner.closed) timers.add(this);
    else this.stopped = true;
  }

  /** Restart the countdown from now. */
  refresh(): void {
    if (!this.stopped) this.due = monotonicNow() + this.ms;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.stopped();
    this.owner.detach(this);
  }

  release(): void {
    this.stop();
  }

  /**
   * @internal called by the wheel. An interval's callback may move `due`
   * itself (the session heartbeat does) before it is filed again.
   */
  fire(now: number): boolean {
    if (this.kind === "timer") this.stop();
    else this.due = Math.max(this.due + this.ms, now + 1);
    const fn = this.fn;
    if (typeof fn === "function") fn();
    else fn.onTimer(this);
    return !this.stopped;
  }

  ownerName(): string {
    return this.owner.name;
  }
  ownerAlive(): boolean {
    return !this.owner.closed;
  }
  reclaim(): void {
    this.stop();
  }
}
