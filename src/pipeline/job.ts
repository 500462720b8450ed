import type { BotContext, DeviceInfo, ReplyItem } from "../bot/types.ts";
import type { Scope, ScopedTimer } from "../resources/scope.ts";
import type { RoomSlots } from "./limits.ts";
import type { InboundJob } from "./types.ts";

/** "zombie": timed out but still running; its result will be discarded. "done" also covers jobs aborted at shutdown. */
export type JobState = "running" | "done" | "zombie";

export interface JobHost {
  replyFrom(job: Job, items: ReplyItem | ReplyItem[]): boolean;
}

/**
 * One running handler call: the pipeline's bookkeeping. The handler gets a
 * JobContext, never the Job itself (a handler writing `ctx.state`, as Koa and
 * Telegraf handlers do, must not touch the pipeline's own fields). The
 * AbortController is made only if the handler reads `signal`, so handlers that
 * never look at it cost no controller (the pool's deadline list, not a timer
 * per job, tracks time).
 */
export class Job {
  state: JobState = "running";
  /** Its deadline passed (it stays true after a zombie settles): nothing of it is sent any more. */
  timedOut = false;
  /** Monotonic ms (performance.now()) when it started / when it is due. */
  readonly startedAt: number;
  readonly due: number;
  /** Epoch ms of the deadline, for the handler (and the webhook body). */
  readonly deadline: number;
  // intrusive links of the deadline list it is in
  prev: Job | null = null;
  next: Job | null = null;
  /** Its entry in the pipeline's scope (resource tracking) while it runs or is a zombie. */
  tracked: { release(): void } | null = null;
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

/** What a handler sees of its job: read-only views and reply(); whatever it adds stays its own. */
export class JobContext implements BotContext {
  readonly #job: Job;
  constructor(job: Job) {
    this.#job = job;
  }
  get device(): DeviceInfo {
    return this.#job.device;
  }
  get room(): string {
    return this.#job.room;
  }
  get channelId(): string | null {
    return this.#job.channelId;
  }
  get signal(): AbortSignal {
    return this.#job.signal;
  }
  get deadline(): number {
    return this.#job.deadline;
  }
  reply(items: ReplyItem | ReplyItem[]): boolean {
    return this.#job.reply(items);
  }
}

/**
 * Running jobs that share one timeout, in start order, so the earliest
 * deadline is always the head: one timer per list (armed for the head), not
 * one per job. The timer (owned by the pipeline's scope) exists only while the
 * list is non-empty.
 */
export class DeadlineList {
  #head: Job | null = null;
  #tail: Job | null = null;
  #timer: ScopedTimer | null = null;

  constructor(
    private readonly scope: Scope,
    private readonly label: string,
    private readonly onDue: (job: Job) => void,
  ) {}

  add(job: Job): void {
    job.prev = this.#tail;
    job.next = null;
    if (this.#tail === null) this.#head = job;
    else this.#tail.next = job;
    this.#tail = job;
    if (this.#timer === null) this.#arm(job.startedAt);
  }

  remove(job: Job): void {
    if (job.prev === null) {
      if (this.#head !== job) return; // not listed
      this.#head = job.next;
    } else job.prev.next = job.next;
    if (job.next === null) this.#tail = job.prev;
    else job.next.prev = job.prev;
    job.prev = job.next = null;
    if (this.#head === null) this.#disarm();
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
    this.#timer = this.scope.timeout(Math.max(1, Math.ceil(head.due - now)), this.#fire, this.label);
  }

  #disarm(): void {
    this.#timer?.stop();
    this.#timer = null;
  }

  #fire = (): void => {
    this.#timer = null;
    const now = performance.now();
    let j: Job | null;
    try {
      while ((j = this.#head) !== null && j.due <= now) {
        this.remove(j);
        this.onDue(j);
      }
    } finally {
      // Re-armed even if a callback threw, so the jobs behind it still time out.
      if (this.#head !== null && this.#timer === null) this.#arm(now);
    }
  };

  clear(): void {
    this.#head = this.#tail = null;
    this.#disarm();
  }
}
