import type { HandlerResult, ReplyItem } from "../bot/types.ts";
import { NO_REPLY } from "../bot/types.ts";
import { BotgateError } from "../errors.ts";
import type { Scope } from "../resources/scope.ts";
import type { Outbound, ReplyOrigin } from "./types.ts";

const NONE: ReplyItem[] = [];

/** A sendable item, checked (a handler is user code: a bad `mediaWaitTime` must fail its job, not the encoder). */
function sendable(it: unknown): it is ReplyItem {
  if (typeof it === "string") return it.length > 0 && it !== NO_REPLY;
  if (it === null || typeof it !== "object") return false;
  const { text, mediaWaitTime } = it as { text?: unknown; mediaWaitTime?: unknown };
  if (typeof text !== "string" || text.length === 0 || text === NO_REPLY) return false;
  if (mediaWaitTime !== undefined && mediaWaitTime !== null && !(typeof mediaWaitTime === "number" && Number.isFinite(mediaWaitTime) && mediaWaitTime >= 0)) {
    throw new BotgateError("HANDLER_FAILED", "reply item: mediaWaitTime must be a non-negative number of milliseconds");
  }
  return true;
}

/** Result of a handler -> the items to send (`@no-reply`, empties and non-text dropped); throws HANDLER_FAILED for a malformed item. */
export function normalizeResult(r: HandlerResult): ReplyItem[] {
  if (r === undefined || r === null) return NONE;
  if (typeof r === "string") return r.length > 0 && r !== NO_REPLY ? [r] : NONE;
  if (!Array.isArray(r)) return sendable(r) ? [r] : NONE;
  return r.filter(sendable);
}

export interface ReplyCounters {
  sent: number;
  undeliverable: number;
  /** Items whose owner was over (a timed-out job, an ended push session) while they waited for their gap: not sent. */
  discarded: number;
}

/** Whose reply an item is: once it is over (a job timed out, a pushing session ended), its waiting items are not sent. */
export interface ReplyOwner {
  readonly timedOut: boolean;
}

/**
 * Sends replies. A list goes out as separate messages `gapMs` apart (the
 * original server's 1 s): the first at once, the rest on timers owned by the
 * pipeline's scope, so no worker waits and shutdown cancels what is pending.
 * Gaps are per list, as in the original server: a single reply is never held
 * back, so another job's reply to the same room can come between a list's
 * items. Items whose owner is over meanwhile (a job that timed out, an admin
 * push whose session ended) are dropped. Media items
 * (`MEDIA_URL:` / `IMAGE_BASE64:` text, `mediaWaitTime`) pass through untouched.
 */
export class ReplySender {
  readonly counters: ReplyCounters = { sent: 0, undeliverable: 0, discarded: 0 };
  /** Items waiting for their gap timer. */
  pending = 0;

  constructor(
    private readonly outbound: Outbound,
    private readonly gapMs: number,
    private readonly scope: Scope,
    private readonly onError: (err: unknown) => void = () => {},
    /** After each gap send: the pipeline's drain waits for `pending` to reach zero. */
    private readonly onGapDone: () => void = () => {},
  ) {}

  /**
   * Returns false if an item sent at once (the first; all of them when gapMs is 0) could
   * not be routed to a device. With `firstOrNothing` (admin pushes) the answer is the
   * first item's alone, and nothing more is sent when it was not taken: a push answered
   * 409 must not leave its later texts behind.
   */
  send(origin: ReplyOrigin, items: ReplyItem[], owner: ReplyOwner | null = null, firstOrNothing = false): boolean {
    if (items.length === 0) return true;
    const first = this.#deliver(origin, [items[0]!]);
    if (items.length === 1 || (firstOrNothing && !first)) return first;
    if (this.gapMs > 0) {
      this.#later(origin, items, 1, owner);
      return first;
    }
    let ok = first;
    for (let i = 1; i < items.length; i++) ok = this.#deliver(origin, [items[i]!]) && ok; // each counted as it went
    return firstOrNothing ? first : ok;
  }

  #later(origin: ReplyOrigin, items: ReplyItem[], i: number, owner: ReplyOwner | null): void {
    const left = items.length - i;
    this.pending += left;
    this.scope.timeout(
      this.gapMs,
      () => {
        this.pending -= left;
        if (owner?.timedOut) {
          this.counters.discarded += left; // nothing of a timed-out job is sent
          return this.onGapDone();
        }
        this.#deliver(origin, [items[i]!]);
        if (i + 1 < items.length) this.#later(origin, items, i + 1, owner);
        this.onGapDone();
      },
      "reply-gap",
    );
  }

  /** One item (a one-item array). */
  #deliver(origin: ReplyOrigin, one: ReplyItem[]): boolean {
    let ok = false;
    try {
      ok = this.outbound.deliver(origin, one);
    } catch (err) {
      this.onError(err); // a bug below us must not escape into a timer or a handler's promise
    }
    if (ok) this.counters.sent++;
    else this.counters.undeliverable++;
    return ok;
  }

  /** Shutdown: the scope's close cancels the timers; forget what they held. */
  cancelled(): void {
    this.pending = 0;
  }
}
