import type { BotHandler, HandlerResult, ReplyItem } from "../bot/types.ts";
import { NO_REPLY } from "../bot/types.ts";
import type { Dispatcher, InboundJob, Outbound, PipelineStats } from "./types.ts";

/** Result of a handler -> the items to send (`@no-reply` and empties dropped). */
export function normalizeResult(r: HandlerResult): ReplyItem[] {
  if (r === undefined || r === null) return [];
  const list = Array.isArray(r) ? r : [r];
  return list.filter((it) => {
    const text = typeof it === "string" ? it : it?.text;
    return typeof text === "string" && text.length > 0 && text !== NO_REPLY;
  });
}

/** Minimal dispatcher: runs each job at once under a deadline. */
export class DirectDispatcher implements Dispatcher {
  constructor(
    private readonly handlerFor: (bot: string) => BotHandler,
    private readonly outbound: Outbound,
    private readonly timeoutMs: number,
  ) {}

  submit(job: InboundJob): void {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const ctx = {
      device: job.device,
      room: job.origin.room,
      channelId: job.origin.channelId,
      signal,
      reply: (items: ReplyItem | ReplyItem[]) => this.outbound.deliver(job.origin, normalizeResult(items)),
    };
    Promise.resolve()
      .then(() => this.handlerFor(job.origin.botName)(job.message, ctx))
      .then(
        (r) => {
          if (!signal.aborted) this.outbound.deliver(job.origin, normalizeResult(r));
        },
        () => {},
      );
  }

  stats(): PipelineStats {
    return {
      queueDepth: 0, queueCapacity: 0, enqueued: 0, dropped: {}, started: 0, completed: 0, failed: 0, timeouts: 0, inFlight: 0,
      inFlightPerBot: {}, inFlightPerRoom: {}, zombies: { count: 0, cap: 0, list: [] }, jobDurationMs: { buckets: [], cumulative: [], sum: 0, count: 0 },
    };
  }

  async close(): Promise<void> {}
}
