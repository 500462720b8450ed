import type { BotHandler, ChatMessage, ReplyItem } from "../../src/bot/types.ts";
import { defaultConfig } from "../../src/config/options.ts";
import type { BotgateError } from "../../src/errors.ts";
import { type PipelineBot, type PipelineOptions, Pipeline } from "../../src/pipeline/pool.ts";
import type { InboundJob, Outbound, ReplyOrigin } from "../../src/pipeline/types.ts";
import { ResourceTracker } from "../../src/resources/tracker.ts";
import { deviceKey } from "../../src/store/retention.ts";

export interface Delivery {
  origin: ReplyOrigin;
  items: ReplyItem[];
  at: number;
}

/** An Outbound that records what the pipeline sends; tests wait on it with deadlines. */
export class RecordingOutbound implements Outbound {
  readonly deliveries: Delivery[] = [];
  readonly notices: Array<{ origin: ReplyOrigin; error: BotgateError }> = [];
  routable = true;
  /** Reply items delivered so far. */
  count = 0;
  #waiters: Array<() => void> = [];

  deliver(origin: ReplyOrigin, items: ReplyItem[]): boolean {
    if (!this.routable) return false;
    this.deliveries.push({ origin, items, at: performance.now() });
    this.count += items.length;
    this.#wake();
    return true;
  }

  notifyDropped(origin: ReplyOrigin, error: BotgateError): void {
    this.notices.push({ origin, error });
  }

  /** Reply texts in delivery order. */
  get texts(): string[] {
    return this.deliveries.flatMap((d) => d.items.map((i) => (typeof i === "string" ? i : i.text)));
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Wait until at least n reply items were delivered. */
  async waitFor(n: number, timeoutMs = 3000): Promise<void> {
    await waitUntil(() => this.count >= n, timeoutMs, `${n} replies (have ${this.count})`, (f) => this.#waiters.push(f));
  }
}

/** Resolve when cond() holds, re-checked on `subscribe` wake-ups or every 2 ms; reject at the deadline. */
export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string, subscribe?: (wake: () => void) => void): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((r) => {
      const t = setTimeout(r, 2);
      subscribe?.(() => {
        clearTimeout(t);
        r();
      });
    });
  }
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

let seq = 0;
export function inbound(over: Partial<ChatMessage> & { device?: string } = {}): InboundJob {
  const bot = over.bot ?? "bot";
  const room = over.room ?? "room";
  const channelId = over.channelId === undefined ? null : over.channelId;
  const deviceId = over.device ?? "dev";
  const message: ChatMessage = {
    bot,
    room,
    text: "hi",
    sender: "someone",
    isGroupChat: true,
    channelId,
    logId: String(++seq),
    userHash: null,
    isMention: false,
    timestamp: null,
    packageName: null,
    threadId: null,
    receivedAt: Date.now(),
    ...over,
  };
  return {
    message,
    origin: { botName: bot, deviceId, room, channelId, key: deviceKey(bot, deviceId) },
    device: { botName: bot, deviceId, address: "127.0.0.1", clientVersion: "3.2.1" },
  };
}

export interface TestPipeline {
  pipeline: Pipeline;
  out: RecordingOutbound;
  tracker: ResourceTracker;
}

export function pipelineWith(handlers: Record<string, BotHandler | Omit<PipelineBot, "name">>, options: Partial<PipelineOptions> = {}): TestPipeline {
  const out = new RecordingOutbound();
  const tracker = new ResourceTracker();
  const bots: PipelineBot[] = Object.entries(handlers).map(([name, h]) => (typeof h === "function" ? { name, handler: h, jobTimeoutMs: null } : { name, ...h }));
  const pipeline = new Pipeline({ options: { ...defaultConfig().pipeline, replyGapMs: 0, ...options }, bots, outbound: out, tracker });
  return { pipeline, out, tracker };
}

/** Live pipeline-owned resources by kind. */
export function live(tracker: ResourceTracker): { job: number; timer: number } {
  const c = tracker.counts();
  return { job: c.job, timer: c.timer };
}
