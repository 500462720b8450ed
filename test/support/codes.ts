import type { BotgateError } from "../../src/errors.ts";

/** The BotgateError code `fn` throws, or "OK" when it returns. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as BotgateError).code;
  }
  return "OK";
}
