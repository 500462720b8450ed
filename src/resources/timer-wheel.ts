/**
 * One native interval drives every scoped timer in the process (a hashed
 * timer wheel, 10 ms ticks). Ten thousand phones each need a ping interval,
 * an idle deadline and a handshake deadline; as native timers that is
 * ~1 KB per phone and a syscall-heavy refresh on every inbound line. Here a
 * timer is a small object, and refresh() just moves its due time (the wheel
 * re-files it lazily when its slot comes round).
 *
 * The native interval runs only while timers are live, and is unref'd.
 */
export const TICK_MS = 10;

/**
 * The clock of every due time on the wheel: monotonic, so a wall-clock step
 * (NTP, an operator's `date -s`) neither fires every deadline at once nor
 * freezes them. Date.now() stays for what goes on the wire or in logs.
 */
export const monotonicNow = (): number => performance.now();
const SLOTS = 1024; // one revolution = 10.24 s
const MASK = SLOTS - 1;

export interface WheelEntry {
  due: number;
  /** Stopped entries are dropped lazily when their slot comes round. */
  readonly stopped: boolean;
  /** Called when due; returns true to be filed again (intervals). */
  fire(now: number): boolean;
}

export class TimerWheel {
  readonly #slots: WheelEntry[][] = Array.from({ length: SLOTS }, () => []);
  #cursor = Math.floor(monotonicNow() / TICK_MS);
  #live = 0;
  #handle: ReturnType<typeof setInterval> | undefined;

  get live(): number {
    return this.#live;
  }

  /** File a new entry (counted live until it reports stopped via stopped()). */
  add(e: WheelEntry): void {
    this.#file(e);
    if (this.#live++ === 0) this.#start();
  }

  /** An entry stopped: when none are left, the native interval stops too. */
  stopped(): void {
    if (--this.#live > 0) return;
    this.#live = 0;
    if (this.#handle !== undefined) clearInterval(this.#handle);
    this.#handle = undefined;
    for (let i = 0; i < SLOTS; i++) if (this.#slots[i]!.length > 0) this.#slots[i] = [];
  }

  #file(e: WheelEntry): void {
    const tick = Math.max(Math.ceil(e.due / TICK_MS), this.#cursor + 1);
    this.#slots[tick & MASK]!.push(e);
  }

  #start(): void {
    this.#cursor = Math.floor(monotonicNow() / TICK_MS);
    this.#handle = setInterval(this.#tick, TICK_MS);
    (this.#handle as { unref?: () => void }).unref?.();
  }

  #tick = (): void => {
    const now = monotonicNow();
    const target = Math.floor(now / TICK_MS);
    // After a long stall every slot is visited once; that covers every entry.
    if (target - this.#cursor > SLOTS) this.#cursor = target - SLOTS;
    while (this.#cursor < target && this.#handle !== undefined) {
      this.#cursor++;
      const i = this.#cursor & MASK;
      const slot = this.#slots[i]!;
      if (slot.length === 0) continue;
      this.#slots[i] = [];
      for (let k = 0; k < slot.length; k++) {
        const e = slot[k]!;
        if (e.stopped) continue;
        if (e.due > now) {
          this.#file(e); // refreshed, or due in a later revolution
          continue;
        }
        let again = false;
        try {
          again = e.fire(now);
        } catch (err) {
          console.error("timer callback failed:", err);
        }
        if (again && !e.stopped) this.#file(e);
      }
    }
  };
}

/** The process-wide wheel. */
export const wheel = new TimerWheel();
