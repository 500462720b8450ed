/**
 * Input checks for the admin API. Problems are collected per field and thrown
 * once as BAD_REQUEST with `fields`, so a client sees everything wrong at once.
 */
import type { Context } from "hono";
import { BotgateError, type FieldError } from "../errors.ts";
import { BodyNotUtf8, BodyTooLarge, readUtf8 } from "../http/body.ts";
import { DEVICE_STATUSES, type DeviceStatus } from "../store/types.ts";
import { codePoints, LIMITS, MAX_PAGE } from "../store/validate.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_PAGE = 100;

type Obj = Record<string, unknown>;

export class Check {
  readonly errors: FieldError[] = [];

  fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  /** Throw BAD_REQUEST listing every field problem, if any. */
  done(what = "invalid request"): void {
    if (this.errors.length === 0) return;
    const list = this.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    throw new BotgateError("BAD_REQUEST", `${what}: ${list}`, { fields: this.errors });
  }

  /** An identifier (bot name, device id): non-empty, no surrounding whitespace, bounded. */
  key(path: string, v: unknown, max: number): string {
    if (typeof v !== "string" || v.length === 0) {
      this.fail(path, "must be a non-empty string");
      return "";
    }
    if (v.trim() !== v) this.fail(path, "must not start or end with whitespace");
    else if (v.includes("\0")) this.fail(path, "must not contain NUL");
    else if (codePoints(v) > max) this.fail(path, `must be at most ${max} characters`);
    return v;
  }

  /**
   * Characters are code points (an emoji is one), as the store counts them; `utf16`:
   * UTF-16 code units instead (an emoji is two), as the phone's script measures chat text.
   */
  text(path: string, v: unknown, opts: { min?: number; max: number; utf16?: boolean }): string {
    if (typeof v !== "string") {
      this.fail(path, "must be a string");
      return "";
    }
    const n = !opts.utf16 && (v.length > opts.max || v.length < (opts.min ?? 0)) ? codePoints(v) : v.length;
    if (n < (opts.min ?? 0)) this.fail(path, opts.min === 1 ? "must not be empty" : `must be at least ${opts.min} characters`);
    else if (n > opts.max) this.fail(path, `must be at most ${opts.max} characters`);
    return v;
  }

  /** A JSON number; `fromQuery`: a query-string value (decimal digits). */
  int(path: string, raw: unknown, def: number, min: number, max: number, fromQuery = false): number {
    if (raw === undefined || (fromQuery && raw === "")) return def;
    const n = fromQuery && typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== "number" || !Number.isInteger(n)) {
      this.fail(path, "must be an integer");
      return def;
    }
    if (n < min || n > max) {
      this.fail(path, `must be between ${min} and ${max}`);
      return def;
    }
    return n;
  }

  status(path: string, v: unknown): DeviceStatus {
    if (!DEVICE_STATUSES.includes(v as DeviceStatus)) {
      this.fail(path, `must be one of ${DEVICE_STATUSES.join(", ")}`);
      return "pending";
    }
    return v as DeviceStatus;
  }

  unknownKeys(o: Obj, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(k, "unknown field");
  }
}

/** `:bot` and `:device` path parameters, validated like the store would. */
export function deviceParams(c: Context): { bot: string; device: string } {
  const ck = new Check();
  const bot = ck.key("bot", c.req.param("bot"), LIMITS.botName);
  const device = ck.key("device", c.req.param("device"), LIMITS.deviceId);
  ck.done("invalid path");
  return { bot, device };
}

export function paging(c: Context, ck: Check): { limit: number; offset: number } {
  return {
    limit: ck.int("limit", c.req.query("limit"), DEFAULT_PAGE, 1, MAX_PAGE, true),
    offset: ck.int("offset", c.req.query("offset"), 0, 0, Number.MAX_SAFE_INTEGER, true),
  };
}

/** Optional `?bot=` filter. */
export function botFilter(c: Context, ck: Check): string | undefined {
  const v = c.req.query("bot");
  return v === undefined ? undefined : ck.key("bot", v, LIMITS.botName);
}

/** Parse a JSON object body; size-capped, with INVALID_JSON / BAD_REQUEST on garbage. */
export async function jsonBody(c: Context, opts: { optional?: boolean } = {}): Promise<Obj> {
  const text = await cappedText(c.req.raw);
  if (text.trim() === "") {
    if (opts.optional) return {};
    throw new BotgateError("BAD_REQUEST", "request body is empty; send a JSON object", { fields: [{ path: "", message: "required" }] });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new BotgateError("INVALID_JSON", `request body is not valid JSON: ${(cause as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new BotgateError("BAD_REQUEST", "request body must be a JSON object", { fields: [{ path: "", message: "must be an object" }] });
  }
  return v as Obj;
}

/** The body as UTF-8 text, read no further than MAX_BODY_BYTES bytes (a chunked upload has no content-length). */
async function cappedText(req: Request): Promise<string> {
  try {
    return await readUtf8(req.body, MAX_BODY_BYTES, req.headers.get("content-length"));
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new BotgateError("BODY_TOO_LARGE", `request body larger than ${MAX_BODY_BYTES} bytes`);
    if (err instanceof BodyNotUtf8) throw new BotgateError("INVALID_JSON", "request body is not valid UTF-8");
    throw err;
  }
}
