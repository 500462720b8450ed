import type { HandlerResult, ReplyItem } from "../bot/types.ts";
import { NO_REPLY } from "../bot/types.ts";
import type { Scope } from "../resources/scope.ts";
import type { Outbound, ReplyOrigin } from "./types.ts";

const NONE: ReplyItem[] = [];

function sendable(it: unknown): it is ReplyItem {
  const text = typeof it === "string" ? it : (it as { text?: unknown } | null)?.text;
  return typeof text === "string" && text.length > 0 && text !== NO_REPLY;
}

/** Result of a handler -> the items to send (`@no-reply`, empties and non-text dropped). */
export function normalizeResult(r: HandlerResult): ReplyItem[] {
  if (r === undefined || r === null) return NONE;
  if (typeof r === "string") return r.length > 0 && r !== NO_REPLY ? [r] : NONE;
  if (!Array.isArray(r)) return sendable(r) ? [r] : NONE;
  return r.filter(sendable);
}

export interface ReplyCounters {
  sent: number;
  undeliverable: number;
}

/**
 * Sends replies. A list goes out as separate messages `gapMs` apart (the
 * original server's 1 s): the first at once, the rest on timers owned by the
 * pipeline's scope, so no worker waits and shutdown cancels what is pending.
 * Media items (`MEDIA_URL:` / `IMAGE_BASE64:` text, `mediaWaitTime`) pass through untouched.
 */
export class ReplySender {
  readonly counters: ReplyCounters = { sent: 0, undeliverable: 0 };
  /** Items waiting for their gap timer. */
  pending = 0;

  constructor(
    private readonly outbound: Outbound,
    private readonly gapMs: number,
    private readonly scope: Scope,
  ) {}

  /** Returns false if the first item could not be routed to a device. */
  send(origin: ReplyOrigin, items: ReplyItem[]): boolean {
    if (items.length === 0) return true;
    if (items.length === 1 || this.gapMs === 0) return this.#deliver(origin, items);
    const ok = this.#deliver(origin, items.slice(0, 1));
    this.#later(origin, items, 1);
    return ok;
  }

  #later(origin: ReplyOrigin, items: ReplyItem[], i: number): void {
    const left = items.length - i;
    this.pending += left;
    this.scope.timeout(
      this.gapMs,
      () => {
        this.pending -= left;
        this.#deliver(origin, items.slice(i, i + 1));
        if (i + 1 < items.length) this.#later(origin, items, i + 1);
      },
      "reply-gap",
    );
  }

  #deliver(origin: ReplyOrigin, items: ReplyItem[]): boolean {
    if (this.outbound.deliver(origin, items)) {
      this.counters.sent += items.length;
      return true;
    }
    this.counters.undeliverable += items.length;
    return false;
  }

  /** Shutdown: the scope's close cancels the timers; forget what they held. */
  cancelled(): void {
    this.pending = 0;
  }
}
