import type { BotHandler, HandlerResult, ReplyItem } from "../bot/types.ts";
import type { Config } from "../config/options.ts";
import { BotgateError, toBotgateError } from "../errors.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { RateGate } from "../log/rate-gate.ts";
import { Histogram } from "../metrics/primitives.ts";
import { Scope } from "../resources/scope.ts";
import type { ResourceTracker } from "../resources/tracker.ts";
import { Dedupe } from "./dedupe.ts";
import { DeadlineList, Job, JobContext } from "./job.ts";
import { BotSlots, type RoomSlots, Scheduler, roomKey } from "./limits.ts";
import { type DropReason, InboundQueue, type QueueEntry } from "./queue.ts";
import { normalizeResult, type ReplyOwner, ReplySender } from "./replies.ts";
import type { Dispatcher, InboundJob, Outbound, PipelineStats, ReplyOrigin } from "./types.ts";

export type PipelineOptions = Config["pipeline"];

export interface PipelineBot {
  name: string;
  handler: BotHandler;
  /** Per-bot deadline; null = options.jobTimeoutMs. */
  jobTimeoutMs: number | null;
}

export interface PipelineDeps {
  options: PipelineOptions;
  bots: PipelineBot[];
  outbound: Outbound;
  tracker?: ResourceTracker;
  log?: Logger;
}

interface BotRuntime {
  handler: BotHandler;
  timeoutMs: number;
  slots: BotSlots;
  deadlines: DeadlineList;
}

const DROP_REASONS: DropReason[] = ["expired", "queue_full", "duplicate", "shutdown", "unknown_bot"];
const ignore = (): void => {};
const DURATION_BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000];
const NOTICE_INTERVAL_MS = 1000;

/**
 * The inbound pipeline: dedupe -> bounded queue (TTL) -> fair scheduler ->
 * worker slots running the bot handler under a deadline. See docs/pipeline.md.
 */
export class Pipeline implements Dispatcher {
  readonly #o: PipelineOptions;
  readonly #outbound: Outbound;
  readonly #log: Logger;
  readonly #scope: Scope;
  readonly #bots = new Map<string, BotRuntime>();
  readonly #scheduler: Scheduler;
  readonly #queue: InboundQueue;
  readonly #dedupe: Dedupe;
  readonly #replies: ReplySender;
  readonly #zombies = new Set<Job>();
  readonly #durations = new Histogram(DURATION_BUCKETS_MS);
  readonly #dropped: Record<string, number> = {};
  readonly #failures: Record<string, number> = {};
  readonly #notices = new RateGate(NOTICE_INTERVAL_MS, 10_000);
  readonly #logs = new RateGate(NOTICE_INTERVAL_MS, 1000);
  #enqueued = 0;
  #started = 0;
  #completed = 0;
  #failed = 0;
  #timeouts = 0;
  #inFlight = 0;
  #pumping = false;
  #closed = false;
  /** Set by drain(): new submissions are refused from then on. */
  #draining: Promise<boolean> | null = null;
  /** Settles the pending drain (stops its deadline timer); null once settled. */
  #drainEnd: ((idle: boolean) => void) | null = null;
  /** The drain's deadline passed: nothing queued starts any more (its reply would come after the goodbye). */
  #drainExpired = false;
  #now = 0;

  constructor(deps: PipelineDeps) {
    const o = (this.#o = deps.options);
    this.#outbound = deps.outbound;
    this.#log = deps.log ?? silentLogger;
    this.#scope = new Scope("pipeline", deps.tracker);
    this.#scheduler = new Scheduler(o.perRoomConcurrency);
    this.#queue = new InboundQueue(o.queueSize, o.ttlMs, this.#scope, (e, r) => this.#onDrop(e, r));
    this.#dedupe = new Dedupe(o.dedupeWindowMs, o.dedupeMaxEntries, deps.bots.length);
    this.#replies = new ReplySender(
      deps.outbound,
      o.replyGapMs,
      this.#scope,
      (err) => this.#log.error("reply delivery failed", { error: err }),
      () => this.#checkDrained(),
    );
    for (const r of DROP_REASONS) this.#dropped[r] = 0;
    const lists = new Map<number, DeadlineList>();
    for (const b of deps.bots) {
      const timeout = b.jobTimeoutMs ?? o.jobTimeoutMs;
      let list = lists.get(timeout);
      if (list === undefined) {
        list = new DeadlineList(this.#scope, `job-deadlines ${timeout}ms`, (j) => this.#onTimeout(j));
        lists.set(timeout, list);
      }
      this.#bots.set(b.name, { handler: b.handler, timeoutMs: timeout, slots: new BotSlots(b.name, o.perBotConcurrency), deadlines: list });
    }
  }

  submit(job: InboundJob): void {
    const botName = job.origin.botName;
    if (this.#closed || this.#draining !== null) return this.#count("shutdown");
    const bot = this.#bots.get(botName);
    if (bot === undefined) return this.#count("unknown_bot");
    const m = job.message;
    const now = Date.now();
    if (m.logId !== null && this.#dedupe.enabled && this.#dedupe.seen(botName, m.logId, now)) return this.#count("duplicate");
    if (m.receivedAt + this.#o.ttlMs <= now) {
      this.#forget(job);
      return this.#count("expired");
    }
    this.#enqueued++;
    const key = roomKey(botName, job.origin.room, job.origin.channelId);
    // Fast path: nothing waiting anywhere and every slot free for it -> start without queueing.
    if (this.#queue.size === 0 && this.#canStart()) {
      const room = this.#scheduler.room(bot.slots, key, job.origin.room, job.origin.channelId);
      if (room.inFlight < room.limit && bot.slots.inFlight < bot.slots.limit) {
        room.inFlight++;
        bot.slots.inFlight++;
        return this.#start(job, room, bot);
      }
    }
    this.#queue.makeRoom(now);
    const room = this.#scheduler.room(bot.slots, key, job.origin.room, job.origin.channelId);
    this.#queue.push(job, room);
    this.#scheduler.wake(room);
    this.#pump();
  }

  #canStart(): boolean {
    return this.#inFlight < this.#o.workers && this.#zombies.size < this.#o.maxZombies && !this.#closed && !this.#drainExpired;
  }

  #popLive = (room: RoomSlots): QueueEntry | null => this.#queue.popLive(room, this.#now);

  /** Start whatever may start now; re-entrant calls (a job finishing synchronously) fold into the running loop. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.size > 0 && this.#canStart()) {
        this.#now = Date.now();
        const e = this.#scheduler.take(this.#popLive);
        if (e === null) break;
        this.#start(e.job, e.room, this.#bots.get(e.room.bot.name)!);
      }
    } finally {
      this.#pumping = false;
      this.#checkDrained(); // every completion, failure and timeout passes through here
    }
  }

  /** Slots are already taken. */
  #start(inbound: InboundJob, room: RoomSlots, bot: BotRuntime): void {
    this.#inFlight++;
    this.#started++;
    const job = new Job(this, inbound, room, bot.timeoutMs, performance.now());
    let r: HandlerResult | Promise<HandlerResult>;
    let then: unknown;
    try {
      r = bot.handler(inbound.message, new JobContext(job));
      // Read inside the try: a `then` getter may throw (a revoked Proxy, say).
      then = r !== null && typeof r === "object" ? (r as { then?: unknown }).then : undefined;
    } catch (err) {
      return this.#fail(job, err);
    }
    if (typeof then !== "function") return this.#complete(job, r as HandlerResult);
    // Promise.resolve adopts any thenable by the spec's rules (a then() returning nothing
    // included) and never throws: a then() that throws becomes a rejection.
    const settled = Promise.resolve(r);
    if (this.#closed) {
      // Closed from inside the handler: the job is abandoned, but its outcome is still observed
      // (an unobserved rejection would be reported as unhandled).
      settled.then(undefined, ignore);
      return job.abort(new BotgateError("SHUTTING_DOWN", "server is shutting down"));
    }
    job.tracked = this.#scope.own("job", room.label);
    bot.deadlines.add(job);
    settled
      .then(
        (v) => this.#settled(job, bot, v),
        (err) => this.#settledWithError(job, bot, err),
      )
      // A bug in settling must not become an unhandled rejection (the runtime would exit).
      .then(undefined, (err) => this.#log.error("pipeline error after a handler settled", { error: err }));
  }

  #settled(job: Job, bot: BotRuntime, v: HandlerResult): void {
    if (this.#onTime(job, bot)) this.#complete(job, v);
  }

  #settledWithError(job: Job, bot: BotRuntime, err: unknown): void {
    if (this.#onTime(job, bot)) this.#fail(job, err);
  }

  /**
   * A settled handler: true if it was still running within its deadline (its outcome counts).
   * Past the deadline it is a timeout even if the deadline timer has not fired yet (a 10 ms
   * wheel, or a busy event loop): its result is not sent.
   */
  #onTime(job: Job, bot: BotRuntime): boolean {
    if (job.state === "running") {
      bot.deadlines.remove(job);
      if (performance.now() < job.due) return true;
      this.#onTimeout(job, true);
      return false;
    }
    if (job.state === "zombie") this.#bury(job);
    return false;
  }

  #complete(job: Job, r: HandlerResult): void {
    if (this.#closed) return this.#done(job); // the handler closed the pipeline: close() already let go of every slot
    let items: ReplyItem[];
    try {
      items = normalizeResult(r);
    } catch (err) {
      return this.#fail(job, err); // a malformed reply item
    }
    this.#done(job);
    this.#free(job);
    this.#completed++;
    this.#replies.send(job.inbound.origin, items, job);
    this.#pump();
  }

  /** A throwing or rejecting handler: counted and logged, nothing sent (`@no-reply`), the others carry on. */
  #fail(job: Job, err: unknown): void {
    if (this.#closed) return this.#done(job); // as in #complete
    this.#done(job);
    this.#free(job);
    this.#failed++;
    const e = toBotgateError(err, "HANDLER_FAILED");
    this.#failures[e.code] = (this.#failures[e.code] ?? 0) + 1;
    this.#logThrottled(`fail:${job.slots.bot.name}`, "bot handler failed", { bot: job.slots.bot.name, room: job.slots.label, code: e.code, error: e.message });
    this.#pump();
  }

  /**
   * Deadline passed: slots free at once, signal aborted, nothing sent; the call is a zombie
   * until it settles (`settled`: it already has, late, so it is done, never a zombie).
   */
  #onTimeout(job: Job, settled = false): void {
    if (job.state !== "running") return;
    job.state = "zombie";
    job.timedOut = true; // its reply items still waiting for a gap are dropped
    this.#free(job);
    this.#timeouts++;
    job.abort(new BotgateError("TIMEOUT", `bot handler did not finish within ${job.timeoutMs} ms`));
    if (settled) this.#done(job);
    else this.#zombies.add(job);
    this.#logThrottled(`timeout:${job.slots.bot.name}`, "bot handler timed out", { bot: job.slots.bot.name, room: job.slots.label, timeoutMs: job.timeoutMs, zombies: this.#zombies.size });
    if (settled) return this.#pump();
    if (this.#zombies.size >= this.#o.maxZombies) {
      this.#log.error("zombie cap reached: no new jobs start until a timed-out handler settles", { zombies: this.#zombies.size, cap: this.#o.maxZombies });
    }
    this.#pump();
  }

  #bury(job: Job): void {
    this.#done(job);
    if (this.#zombies.delete(job)) this.#pump();
  }

  /** The job leaves its worker, bot and room slots. */
  #free(job: Job): void {
    this.#inFlight--;
    this.#scheduler.release(job.slots);
    this.#durations.observe(performance.now() - job.startedAt);
  }

  #done(job: Job): void {
    job.state = "done";
    job.tracked?.release();
    job.tracked = null;
  }

  /** BotContext.reply(): only while the job still owns its slot and its deadline has not passed (the timer may lag); after that it is discarded. */
  replyFrom(job: Job, items: ReplyItem | ReplyItem[]): boolean {
    if (job.state !== "running" || this.#closed || performance.now() >= job.due) return false;
    return this.#replies.send(job.inbound.origin, normalizeResult(items), job);
  }

  #onDrop(e: QueueEntry, reason: DropReason): void {
    this.#count(reason);
    this.#forget(e.job);
    if (reason === "queue_full") this.#noticeFull(e.job);
    this.#checkDrained(); // the TTL sweep can empty the queue with no job finishing
  }

  #forget(job: InboundJob): void {
    const id = job.message.logId;
    if (id !== null && this.#dedupe.enabled) this.#dedupe.forget(job.origin.botName, id);
  }

  #count(reason: DropReason): void {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
  }

  /** Tell the dropped message's device (an `error` event the phone ignores), at most once a second per device. */
  #noticeFull(job: InboundJob): void {
    const o = job.origin;
    if (!this.#notices.pass(o.key)) return;
    this.#outbound.notifyDropped?.(o, new BotgateError("QUEUE_FULL", "server busy: a queued message was dropped"));
    this.#logThrottled("queue_full", "inbound queue full: dropped the oldest message of the busiest room", { bot: o.botName, room: o.room, depth: this.#queue.size });
  }

  #logThrottled(key: string, msg: string, fields: Record<string, unknown>): void {
    const g = this.#logs;
    if (!g.pass(key)) return;
    this.#log.warn(msg, g.heldBack > 0 ? { ...fields, suppressed: g.heldBack } : fields);
  }

  stats(): PipelineStats {
    const perBot: Record<string, number> = {};
    for (const [name, b] of this.#bots) perBot[name] = b.slots.inFlight;
    const perRoom: Record<string, number> = {};
    for (const r of this.#scheduler.rooms.values()) if (r.inFlight > 0) perRoom[r.label] = r.inFlight;
    const now = performance.now();
    const list: PipelineStats["zombies"]["list"] = [];
    // Oldest first (the set is in timeout order, which differs across bots' timeouts); at most maxZombies.
    const oldest = [...this.#zombies].sort((a, b) => a.startedAt - b.startedAt);
    for (const z of oldest.slice(0, 100)) list.push({ bot: z.slots.bot.name, room: z.slots.label, ageMs: Math.round(now - z.startedAt) });
    const d = this.#durations;
    return {
      queueDepth: this.#queue.size,
      queueCapacity: this.#o.queueSize,
      enqueued: this.#enqueued,
      dropped: { ...this.#dropped },
      started: this.#started,
      completed: this.#completed,
      failed: this.#failed,
      timeouts: this.#timeouts,
      inFlight: this.#inFlight,
      inFlightPerBot: perBot,
      inFlightPerRoom: perRoom,
      zombies: { count: this.#zombies.size, cap: this.#o.maxZombies, list },
      jobDurationMs: { buckets: [...d.buckets], cumulative: d.cumulative(), sum: d.sum, count: d.count },
      failures: { ...this.#failures },
      replies: { ...this.#replies.counters, pending: this.#replies.pending },
      stalled: this.#zombies.size >= this.#o.maxZombies,
      workers: this.#o.workers,
      dedupeEntries: this.#dedupe.size,
    };
  }

  /** Nothing queued, nothing running (zombies have nothing left to send), no gap send pending. */
  #idle(): boolean {
    return this.#queue.size === 0 && this.#inFlight === 0 && this.#replies.pending === 0;
  }

  /** Mid-pump the counts are in transition (an entry popped but not started yet): the pump checks when it ends. */
  #checkDrained(): void {
    if (this.#drainEnd !== null && !this.#pumping && this.#idle()) this.#drainEnd(true);
  }

  drain(deadlineMs: number): Promise<boolean> {
    this.#draining ??= new Promise<boolean>((resolve) => {
      if (this.#idle()) return resolve(true);
      // Owned by the scope, so close() cancels it too; stopped as soon as the pipeline is idle.
      const deadline = this.#scope.timeout(
        deadlineMs,
        () => {
          this.#drainExpired = true;
          this.#drainEnd?.(false);
        },
        "shutdown-drain",
      );
      this.#drainEnd = (idle) => {
        this.#drainEnd = null;
        deadline.stop();
        resolve(idle);
      };
    });
    return this.#draining;
  }

  push(origin: ReplyOrigin, items: ReplyItem[], owner: ReplyOwner): boolean {
    if (this.#closed) return false;
    return this.#replies.send(origin, items, owner, true);
  }

  /** Stop accepting, drop what is queued ("shutdown"), abort running jobs, cancel pending reply gaps. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#drainEnd?.(false); // first: the drops below must not read as a completed drain
    this.#queue.drain("shutdown");
    const reason = new BotgateError("SHUTTING_DOWN", "server is shutting down");
    const seen = new Set<DeadlineList>();
    for (const b of this.#bots.values()) {
      if (seen.has(b.deadlines)) continue;
      seen.add(b.deadlines);
      for (const j of b.deadlines.jobs()) {
        j.state = "done";
        j.abort(reason);
      }
      b.deadlines.clear();
    }
    for (const z of this.#zombies) z.state = "done";
    this.#zombies.clear();
    // Every job is gone: the slot counts say so (stats() is still read during shutdown).
    this.#inFlight = 0;
    for (const b of this.#bots.values()) b.slots.inFlight = 0;
    this.#scope.close("shutdown"); // releases every job's tracking entry and the timers
    this.#replies.cancelled();
    this.#scheduler.clear();
    this.#dedupe.clear();
  }
}
