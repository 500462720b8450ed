import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BotgateError } from "../errors.ts";
import exampleBot from "./example.ts";
import type { BotHandler } from "./types.ts";

/** Load a handler module by path (relative to the working directory); null = the example bot. */
export async function loadHandler(modulePath: string | null): Promise<BotHandler> {
  if (modulePath === null) return exampleBot;
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(resolve(modulePath)).href);
  } catch (cause) {
    // A module may throw anything, null included.
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new BotgateError("CONFIG_INVALID", `cannot load bot handler ${modulePath}: ${why}`, { cause });
  }
  const fn = mod.default ?? mod.handle;
  if (typeof fn !== "function") {
    throw new BotgateError("CONFIG_INVALID", `bot handler ${modulePath} must export a default function (or "handle")`);
  }
  return fn as BotHandler;
}
