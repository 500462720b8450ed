import type { LogLevel } from "../config/options.ts";

/** Structured JSON logs, one line per event. Secret-looking fields are redacted. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_KEY = /secret|salt|token|signature|password|authorization/i;

const MAX_DEPTH = 4;

/**
 * Credentials that can hide inside text: bearer tokens, and URL passwords, also ones with
 * an unescaped "/", "#" or "@" (which make the URL unparsable): everything from "user:"
 * (the user may be empty) up to the last "@" of the word goes. Safe over exact: a
 * "host:port/path" with an "@" later in the word is cut too; one without an "@", or a
 * bracketed IPv6 host, stays as it is.
 */
export function scrub(s: string): string {
  return s
    .replace(/(bearer\s+)\S+/gi, "$1[redacted]")
    .replace(/(\/\/[^:/@\s[\]]*:)(?!\d{1,5}(?:[/?#][^@\s]*)?(?:\s|$))\S*@/g, "$1[redacted]@");
}

function clean(v: unknown, depth: number): unknown {
  if (typeof v === "string") return scrub(v);
  if (v === null || typeof v !== "object") return v;
  if (v instanceof Error) return { name: v.name, message: scrub(v.message), code: (v as { code?: unknown }).code };
  if (ArrayBuffer.isView(v)) return `[${v.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return "[nested]";
  if (Array.isArray(v)) return v.map((x) => clean(x, depth + 1));
  return redact(v as Record<string, unknown>, depth + 1);
}

/** Secret-named keys are redacted at any depth; strings are scrubbed of tokens and URL passwords. */
function redact(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in fields) out[k] = SECRET_KEY.test(k) ? "[redacted]" : clean(fields[k], depth);
  return out;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => console.log(l), base: Record<string, unknown> = {}): Logger {
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const rec = { time: new Date().toISOString(), level: lvl, msg, ...redact(base), ...(fields ? redact(fields) : undefined) };
    let line: string;
    try {
      line = JSON.stringify(rec);
    } catch {
      line = JSON.stringify({ time: rec.time, level: lvl, msg, note: "unserializable fields" });
    }
    write(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (f) => createLogger(level, write, { ...base, ...f }),
  };
}

export const silentLogger: Logger = createLogger("silent");
