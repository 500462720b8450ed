import type { BotContext, DeviceInfo, ReplyItem } from "../bot/types.ts";
import type { TrackedHandle } from "../resources/tracker.ts";
import type { RoomSlots } from "./limits.ts";
import type { InboundJob } from "./types.ts";

/** "zombie": timed out (or aborted at shutdown) but still running; its result will be discarded. */
export type JobState = "running" | "done" | "zombie";

export interface JobHost {
  replyFrom(job: Job, items: ReplyItem | ReplyItem[]): boolean;
}

/**
 * One running handler call; also its BotContext. The AbortController is made
 * only if the handler reads `signal`, so handlers that never look at it cost
 * no controller (the pool's deadline list, not a timer per job, tracks time).
 */
export class Job implements BotContext {
  state: JobState = "running";
  /** Monotonic ms (performance.now()) when it started / when it is due. */
  readonly startedAt: number;
  readonly due: number;
  /** Epoch ms of the deadline, for the handler (and the webhook body). */
  readonly deadline: number;
  // intrusive links of the deadline list it is in
  prev: Job | null = null;
  next: Job | null = null;
  tracked: TrackedHandle | null = null;
  #controller: AbortController | null = null;
  #abortReason: unknown = undefined;
  #aborted = false;

  constructor(
    private readonly host: JobHost,
    readonly inbound: InboundJob,
    readonly slots: RoomSlots,
    readonly timeoutMs: number,
    now: number,
  ) {
    this.startedAt = now;
    this.due = now + timeoutMs;
    this.deadline = Date.now() + timeoutMs;
  }

  get device(): DeviceInfo {
    return this.inbound.device;
  }
  get room(): string {
    return this.inbound.origin.room;
  }
  get channelId(): string | null {
    return this.inbound.origin.channelId;
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  reply(items: ReplyItem | ReplyItem[]): boolean {
    return this.host.replyFrom(this, items);
  }
}

/**
 * Running jobs that share one timeout, in start order, so the earliest
 * deadline is always the head: one timer per list (armed for the head), not
 * one per job. The timer exists only while the list is non-empty.
 */
export class DeadlineList {
  #head: Job | null = null;
  #tail: Job | null = null;
  size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerTrack: TrackedHandle | null = null;

  constructor(
    private readonly onDue: (job: Job) => void,
    private readonly trackTimer: () => TrackedHandle | null,
  ) {}

  add(job: Job): void {
    job.prev = this.#tail;
    job.next = null;
    if (this.#tail === null) this.#head = job;
    else this.#tail.next = job;
    this.#tail = job;
    this.size++;
    if (this.#timer === undefined) this.#arm(job.startedAt);
  }

  remove(job: Job): void {
    if (job.prev === null) {
      if (this.#head !== job) return; // not listed
      this.#head = job.next;
    } else job.prev.next = job.next;
    if (job.next === null) this.#tail = job.prev;
    else job.next.prev = job.prev;
    job.prev = job.next = null;
    if (--this.size === 0) this.#disarm();
  }

  /** Everything listed, oldest first (shutdown). */
  *jobs(): IterableIterator<Job> {
    for (let j = this.#head; j !== null; ) {
      const next = j.next;
      yield j;
      j = next;
    }
  }

  #arm(now: number): void {
    const head = this.#head;
    if (head === null) return;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(head.due - now)));
    (this.#timer as { unref?: () => void }).unref?.();
    this.#timerTrack ??= this.trackTimer();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerTrack?.release();
    this.#timerTrack = null;
  }

  #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    let j: Job | null;
    while ((j = this.#head) !== null && j.due <= now) {
      this.remove(j);
      this.onDue(j);
    }
    if (this.#head !== null && this.#timer === undefined) this.#arm(now);
    else if (this.#head === null) this.#disarm();
  };

  clear(): void {
    this.#head = this.#tail = null;
    this.size = 0;
    this.#disarm();
  }
}
