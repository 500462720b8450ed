import type { ResourceKind, ResourceTracker, TrackedHandle } from "./tracker.ts";

/**
 * An owner of timers and other resources, built on an AbortController: when
 * the scope closes, its signal aborts and everything it owns is released.
 * Sessions, the gateway and the pool each own one.
 */
export class Scope {
  readonly #controller = new AbortController();
  readonly #children = new Set<{ release(): void }>();
  readonly name: string;
  readonly #tracker: ResourceTracker | undefined;

  constructor(name: string, tracker?: ResourceTracker) {
    this.name = name;
    this.#tracker = tracker;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#controller.signal.aborted;
  }

  /** A one-shot timer owned by this scope; `refresh()` restarts it cheaply. */
  timeout(ms: number, fn: () => void, label = "timeout"): ScopedTimer {
    return this.#timer("timer", ms, fn, label, false);
  }

  interval(ms: number, fn: () => void, label = "interval"): ScopedTimer {
    return this.#timer("interval", ms, fn, label, true);
  }

  /** Register any other resource (a socket, a job) with its release function. */
  own(kind: ResourceKind, label: string, release: () => void): { release(): void } {
    if (this.closed) {
      release();
      return { release() {} };
    }
    const tracked = this.#track(kind, label, release);
    const child = {
      release: () => {
        if (!this.#children.delete(child)) return;
        tracked?.release();
        release();
      },
    };
    this.#children.add(child);
    return child;
  }

  /** Abort the signal and release everything owned, once. */
  close(reason?: unknown): void {
    if (this.closed) return;
    this.#controller.abort(reason);
    const children = [...this.#children];
    for (const c of children) c.release();
  }

  get ownedCount(): number {
    return this.#children.size;
  }

  #track(kind: ResourceKind, label: string, release: () => void): TrackedHandle | undefined {
    return this.#tracker?.track(kind, this.name, label, release, () => !this.closed);
  }

  #timer(kind: "timer" | "interval", ms: number, fn: () => void, label: string, repeat: boolean): ScopedTimer {
    if (this.closed) return ScopedTimer.dead;
    const timer = new ScopedTimer(ms, fn, repeat);
    const tracked = this.#track(kind, label, () => timer.stop());
    const child = {
      release: () => {
        if (!this.#children.delete(child)) return;
        tracked?.release();
        timer.stop();
      },
    };
    timer.onDone = child.release;
    this.#children.add(child);
    timer.start();
    return timer;
  }
}

type Handle = ReturnType<typeof setTimeout>;

export class ScopedTimer {
  static readonly dead = Object.freeze(Object.assign(Object.create(ScopedTimer.prototype), { stopped: true })) as ScopedTimer;
  #handle: Handle | undefined;
  stopped = false;
  onDone: (() => void) | undefined;
  constructor(
    private readonly ms: number,
    private readonly fn: () => void,
    private readonly repeat: boolean,
  ) {}

  start(): void {
    const run = () => {
      if (!this.repeat) {
        this.#handle = undefined;
        this.onDone?.();
      }
      this.fn();
    };
    this.#handle = this.repeat ? setInterval(run, this.ms) : setTimeout(run, this.ms);
    // Timers must not keep a shutting-down process alive.
    (this.#handle as { unref?: () => void }).unref?.();
  }

  /** Restart the countdown (idle timers are refreshed on every inbound line). */
  refresh(): void {
    if (this.stopped || this.#handle === undefined) return;
    const h = this.#handle as { refresh?: () => void };
    if (typeof h.refresh === "function") h.refresh();
    else {
      clearTimeout(this.#handle);
      this.start();
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.#handle !== undefined) {
      if (this.repeat) clearInterval(this.#handle);
      else clearTimeout(this.#handle);
      this.#handle = undefined;
    }
    this.onDone?.();
  }
}
