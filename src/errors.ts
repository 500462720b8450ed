/**
 * One error vocabulary for the whole gateway. Every failure that crosses a
 * boundary (wire, HTTP, store) is a BotgateError with a code from this table;
 * the table is the ONE place that maps a code to its protocol error code and
 * HTTP status.
 */
export const ERRORS = {
  // input from a phone or an API client
  BAD_REQUEST: { http: 400, wire: "BAD_REQUEST" },
  INVALID_JSON: { http: 400, wire: "INVALID_JSON" },
  INVALID_UTF8: { http: 400, wire: "INVALID_UTF8" },
  LINE_TOO_LONG: { http: 413, wire: "LINE_TOO_LONG" },
  UNKNOWN_EVENT: { http: 400, wire: "UNKNOWN_EVENT" },
  HANDSHAKE_INVALID: { http: 400, wire: "HANDSHAKE_INVALID" },
  HANDSHAKE_TIMEOUT: { http: 408, wire: "HANDSHAKE_TIMEOUT" },
  UNKNOWN_BOT: { http: 404, wire: "UNKNOWN_BOT" },
  DEVICE_ID_UNKNOWN: { http: 400, wire: "DEVICE_ID_UNKNOWN" },
  // authentication of phone events (the deployed phone only knows AUTH_FAILED)
  AUTH_MISSING: { http: 401, wire: "AUTH_FAILED" },
  AUTH_INVALID: { http: 401, wire: "AUTH_FAILED" },
  AUTH_MISMATCH: { http: 401, wire: "AUTH_FAILED" },
  AUTH_BAD_SIGNATURE: { http: 401, wire: "AUTH_FAILED" },
  AUTH_STALE: { http: 401, wire: "AUTH_FAILED" },
  AUTH_REPLAY: { http: 401, wire: "AUTH_FAILED" },
  // device state
  DEVICE_PENDING: { http: 403, wire: "DEVICE_NOT_APPROVED" },
  DEVICE_REFUSED: { http: 403, wire: "DEVICE_BLOCKED" },
  // admin API
  UNAUTHORIZED: { http: 401, wire: "UNAUTHORIZED" },
  FORBIDDEN: { http: 403, wire: "FORBIDDEN" },
  NOT_FOUND: { http: 404, wire: "NOT_FOUND" },
  NO_DEVICE: { http: 409, wire: "NO_DEVICE" },
  BODY_TOO_LARGE: { http: 413, wire: "BODY_TOO_LARGE" },
  // capacity and liveness
  QUEUE_FULL: { http: 503, wire: "QUEUE_FULL" },
  TIMEOUT: { http: 504, wire: "TIMEOUT" },
  // bot logic (counted by the pipeline; the phone hears nothing, as `@no-reply`)
  HANDLER_FAILED: { http: 500, wire: "SERVER_ERROR" },
  WEBHOOK_FAILED: { http: 502, wire: "SERVER_ERROR" },
  WEBHOOK_BAD_ANSWER: { http: 502, wire: "SERVER_ERROR" },
  STORE_UNAVAILABLE: { http: 503, wire: "SERVER_ERROR" },
  SHUTTING_DOWN: { http: 503, wire: "SERVER_SHUTDOWN" },
  CONFIG_INVALID: { http: 500, wire: "SERVER_ERROR" },
  INTERNAL: { http: 500, wire: "SERVER_ERROR" },
} as const satisfies Record<string, { http: number; wire: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

export class BotgateError extends Error {
  override name = "BotgateError";
  readonly code: ErrorCode;
  readonly fields: FieldError[] | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; fields?: FieldError[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fields = options?.fields;
  }
  get httpStatus(): number {
    return ERRORS[this.code].http;
  }
  get wireCode(): string {
    return ERRORS[this.code].wire;
  }
}

/** Wrap anything thrown into the vocabulary; unknown errors become INTERNAL. */
export function toBotgateError(err: unknown, fallback: ErrorCode = "INTERNAL"): BotgateError {
  if (err instanceof BotgateError) return err;
  if (err instanceof Error && err.name === "StoreError") {
    // The store's own message is safe to show when it refused the input (no connection details in it).
    if ((err as { invalidInput?: boolean }).invalidInput === true) return new BotgateError("BAD_REQUEST", err.message, { cause: err });
    return new BotgateError("STORE_UNAVAILABLE", "device store unavailable", { cause: err });
  }
  return new BotgateError(fallback, describe(err), { cause: err });
}

/** Text for anything thrown; never throws itself (a handler may reject with an object String() cannot convert). */
function describe(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}
