/**
 * Bearer-token check for /api (and /metrics when a token is set).
 * Both sides are hashed to 32 bytes first, so the comparison takes the same
 * time whatever the length or content of the presented token.
 */
import type { MiddlewareHandler } from "hono";
import { BotgateError } from "../errors.ts";
import { sha256 } from "../wasm/core.ts";

const enc = new TextEncoder();

export function digest(token: string): Uint8Array {
  return sha256(enc.encode(token));
}

/** Constant-time equality of two equal-length digests. */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export const NO_TOKEN_MESSAGE =
  "the admin API is locked because no admin token is configured; set admin.token in the config file (16+ characters) or BOTGATE_ADMIN_TOKEN, then restart";

/**
 * `token === null` fails closed: every request is refused with 403 and a
 * message telling the operator how to set one.
 */
export function bearerAuth(token: string | null): MiddlewareHandler {
  const expected = token === null ? null : digest(token);
  return async (c, next) => {
    if (expected === null) throw new BotgateError("FORBIDDEN", NO_TOKEN_MESSAGE);
    const header = c.req.header("authorization");
    if (header === undefined) throw new BotgateError("UNAUTHORIZED", "missing Authorization header; send Authorization: Bearer <admin token>");
    const sp = header.indexOf(" ");
    const scheme = sp < 0 ? header : header.slice(0, sp);
    const presented = sp < 0 ? "" : header.slice(sp + 1).trim();
    if (scheme.toLowerCase() !== "bearer" || presented === "") {
      throw new BotgateError("UNAUTHORIZED", "malformed Authorization header; expected: Bearer <admin token>");
    }
    if (!digestsEqual(digest(presented), expected)) throw new BotgateError("UNAUTHORIZED", "invalid admin token");
    await next();
  };
}
