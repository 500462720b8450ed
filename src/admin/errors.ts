/**
 * The ONE place where the admin API turns errors into HTTP responses, using
 * the ERRORS table of src/errors.ts. Body: {"error":{"code","message","fields"?}}.
 */
import type { Context } from "hono";
import { BotgateError, toBotgateError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";

export interface ErrorBody {
  error: { code: string; message: string; fields?: Array<{ path: string; message: string }> };
}

export function errorResponse(err: BotgateError): Response {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.fields && err.fields.length > 0) body.error.fields = err.fields;
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (err.httpStatus === 401) headers["www-authenticate"] = 'Bearer realm="botgate-admin"';
  return new Response(JSON.stringify(body), { status: err.httpStatus, headers });
}

/** Hono `onError`: known errors keep their code; anything else is a logged 500 with no detail leaked. */
export function onError(log: Logger) {
  return (err: Error, c: Context): Response => {
    const e = toBotgateError(err);
    if (e.httpStatus >= 500) {
      log.error("admin request failed", { method: c.req.method, path: c.req.path, code: e.code, error: e.cause ?? e });
      if (e.code === "INTERNAL") return errorResponse(new BotgateError("INTERNAL", "internal error; see the server log"));
    }
    return errorResponse(e);
  };
}

export function notFound(c: Context): Response {
  return errorResponse(new BotgateError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`));
}
