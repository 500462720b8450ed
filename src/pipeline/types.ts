import type { ChatMessage, DeviceInfo, ReplyItem } from "../bot/types.ts";
import type { BotgateError } from "../errors.ts";
import type { ReplyOwner } from "./replies.ts";

/** Where a reply goes: the device that sent the message, and its room. */
export interface ReplyOrigin {
  botName: string;
  deviceId: string;
  room: string;
  channelId: string | null;
  /** deviceKey(botName, deviceId): the registry key of the device's session (built once per session). */
  key: string;
}

export interface InboundJob {
  message: ChatMessage;
  origin: ReplyOrigin;
  device: DeviceInfo;
}

/** Implemented by the gateway: writes `messageResponse` lines, routed per config. */
export interface Outbound {
  deliver(origin: ReplyOrigin, items: ReplyItem[]): boolean;
  /** Optional: a message from this origin was dropped before work started (queue full); the gateway sends an `error` event. */
  notifyDropped?(origin: ReplyOrigin, error: BotgateError): void;
}

/** Between sessions and bot logic. */
export interface Dispatcher {
  submit(job: InboundJob): void;
  stats(): PipelineStats;
  /**
   * Shutdown, first step: refuse new submissions (dropped as "shutdown"), let queued and
   * running jobs finish and pending gap sends go out. Resolves true once idle, false at
   * `deadlineMs` or if close() comes first. close() ends what is left.
   */
  drain(deadlineMs: number): Promise<boolean>;
  /**
   * Sends items that no job produced (an admin push) the way job replies go: a list
   * `replyGapMs` apart, counted in `replies`, waited for by drain(). Once `owner`
   * reads as over, its items still waiting are dropped. False if the first item
   * could not be routed (then nothing is sent), or the pipeline is closed.
   */
  push(origin: ReplyOrigin, items: ReplyItem[], owner: ReplyOwner): boolean;
  close(): Promise<void>;
}

/** Figures the admin API shows; produced by Dispatcher.stats(). */
export interface PipelineStats {
  queueDepth: number;
  queueCapacity: number;
  enqueued: number;
  /** Dropped before work started, by reason ("expired", "queue_full", "duplicate", "shutdown", ...). */
  dropped: Record<string, number>;
  started: number;
  completed: number;
  failed: number;
  timeouts: number;
  inFlight: number;
  inFlightPerBot: Record<string, number>;
  inFlightPerRoom: Record<string, number>;
  zombies: { count: number; cap: number; list: Array<{ bot: string; room: string; ageMs: number }> };
  /** Job duration histogram in ms: cumulative counts per upper bound. */
  jobDurationMs: { buckets: number[]; cumulative: number[]; sum: number; count: number };
  /** Failed jobs by error code (HANDLER_FAILED, WEBHOOK_FAILED, WEBHOOK_BAD_ANSWER, ...). */
  failures: Record<string, number>;
  /** Reply messages handed to the gateway, ones it could not route, and ones waiting for their gap timer. */
  replies: { sent: number; undeliverable: number; discarded: number; pending: number };
  /** True while zombies are at the cap: no new job starts until one settles. */
  stalled: boolean;
  workers: number;
  /** logIds remembered for inbound dedupe. */
  dedupeEntries: number;
}
