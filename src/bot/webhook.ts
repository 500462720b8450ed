import { BotgateError } from "../errors.ts";
import { BodyNotUtf8, BodyTooLarge, readUtf8 } from "../http/body.ts";
import { HmacKey } from "../wasm/core.ts";
import type { BotHandler, HandlerResult, ReplyItem } from "./types.ts";

/**
 * A bot whose logic lives behind HTTP (any language). Per message botgate
 * POSTs JSON `{bot, message, device, room, channelId, deadline}` to the URL,
 * signed: `X-Botgate-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`
 * with `X-Botgate-Timestamp: <epoch ms>`. The request is aborted at the job's
 * deadline. The answer (2xx): `{"reply": ...}` as documented in docs/pipeline.md,
 * or 204 / empty body for no reply. Anything else fails the job (nothing is sent).
 */
export interface WebhookOptions {
  url: string;
  secret: string;
}

export const SIGNATURE_HEADER = "X-Botgate-Signature";
export const TIMESTAMP_HEADER = "X-Botgate-Timestamp";
const MAX_ANSWER_BYTES = 1024 * 1024;
const utf8 = new TextEncoder();

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}

/** The signature header value for a body sent at `timestamp` (exported for tests and receivers written in TS). */
export function signWebhook(key: HmacKey, timestamp: string, body: string): string {
  return `sha256=${hex(key.sign(utf8.encode(`${timestamp}.${body}`)))}`;
}

export function webhookHandler(botName: string, opts: WebhookOptions, fetchImpl: typeof fetch = fetch): BotHandler {
  const key = new HmacKey(utf8.encode(opts.secret));
  return async (message, ctx) => {
    const body = JSON.stringify({ bot: botName, message, device: ctx.device, room: ctx.room, channelId: ctx.channelId, deadline: ctx.deadline });
    const timestamp = String(Date.now());
    let res: Response;
    try {
      res = await fetchImpl(opts.url, {
        method: "POST",
        headers: { "content-type": "application/json", [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signWebhook(key, timestamp, body) },
        body,
        signal: ctx.signal,
        // A redirect would re-send the signed body (307/308) or drop it (302) somewhere else: never follow.
        redirect: "manual",
      });
    } catch (cause) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw new BotgateError("WEBHOOK_FAILED", `webhook request failed: ${(cause as Error)?.message ?? cause}`, { cause });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      const where = res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : "";
      throw new BotgateError("WEBHOOK_FAILED", `webhook answered HTTP ${res.status}${where}`);
    }
    if (res.status === 204) return null;
    const text = await readAnswer(res, ctx.signal);
    if (text.trim() === "") return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new BotgateError("WEBHOOK_BAD_ANSWER", "webhook answer is not JSON");
    }
    return parseWebhookAnswer(parsed);
  };
}

/** The answer body as text, read no further than MAX_ANSWER_BYTES (a huge answer is cut off, not buffered). */
async function readAnswer(res: Response, signal: AbortSignal): Promise<string> {
  try {
    return await readUtf8(res.body, MAX_ANSWER_BYTES, res.headers.get("content-length"));
  } catch (cause) {
    if (cause instanceof BodyTooLarge) throw new BotgateError("WEBHOOK_BAD_ANSWER", `webhook answer larger than ${MAX_ANSWER_BYTES} bytes`);
    if (cause instanceof BodyNotUtf8) throw new BotgateError("WEBHOOK_BAD_ANSWER", "webhook answer is not valid UTF-8");
    if (signal.aborted) throw signal.reason;
    // The connection broke mid-answer: a network failure like any other.
    throw new BotgateError("WEBHOOK_FAILED", `webhook answer could not be read: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

/** `{"reply": null | string | item | (string | item)[]}`, item = `{text, mediaWaitTime?}`. */
export function parseWebhookAnswer(v: unknown): HandlerResult {
  if (v === null || typeof v !== "object" || Array.isArray(v) || !("reply" in v)) {
    throw new BotgateError("WEBHOOK_BAD_ANSWER", 'webhook answer must be a JSON object with a "reply" field');
  }
  const r = (v as { reply: unknown }).reply;
  if (r === null) return null;
  if (Array.isArray(r)) return r.map(item);
  return item(r);
}

function item(v: unknown): ReplyItem {
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object" && typeof (v as { text?: unknown }).text === "string") {
    const o = v as { text: string; mediaWaitTime?: unknown };
    if (o.mediaWaitTime === undefined || o.mediaWaitTime === null) return { text: o.text };
    if (typeof o.mediaWaitTime === "number" && Number.isFinite(o.mediaWaitTime) && o.mediaWaitTime >= 0) return { text: o.text, mediaWaitTime: o.mediaWaitTime };
    throw new BotgateError("WEBHOOK_BAD_ANSWER", "mediaWaitTime must be a non-negative number of milliseconds");
  }
  throw new BotgateError("WEBHOOK_BAD_ANSWER", 'each reply item must be a string or {"text": string, "mediaWaitTime"?: number}');
}
