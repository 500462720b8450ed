import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { BotgateError } from "../errors.ts";
import { type Config, parseConfig } from "./options.ts";

export const DEFAULT_CONFIG_PATH = "botgate.config.json";

type Env = Record<string, string | undefined>;

function envInt(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw new BotgateError("CONFIG_INVALID", `invalid configuration:\n  - ${name}: must be a whole number, got "${v}"`);
  return Number(v);
}

/** Environment overrides, applied on top of the file before validation. */
export function applyEnv(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const out: Record<string, any> = structuredClone(raw);
  // A section the file set to something other than an object is left alone, so that
  // validation reports it ("admin": false must not become an enabled admin API).
  const mergeable = (section: string) => {
    const v = out[section];
    return v === undefined || (v !== null && typeof v === "object" && !Array.isArray(v));
  };
  const set = (section: string, key: string, value: unknown) => {
    if (value === undefined || value === "" || !mergeable(section)) return;
    out[section] = { ...(out[section] ?? {}), [key]: value };
  };
  set("listen", "host", env.BOTGATE_HOST);
  set("listen", "port", envInt(env, "BOTGATE_PORT"));
  set("admin", "host", env.BOTGATE_ADMIN_HOST);
  set("admin", "port", envInt(env, "BOTGATE_ADMIN_PORT"));
  set("admin", "token", env.BOTGATE_ADMIN_TOKEN);
  set("log", "level", env.BOTGATE_LOG_LEVEL);
  // Either one picks the backend; the file's other store settings (pingRetention, ...) stay.
  if (!mergeable("store")) return out;
  if (env.BOTGATE_MYSQL_URL) out.store = { ...(out.store ?? {}), kind: "mysql", url: env.BOTGATE_MYSQL_URL };
  else if (env.BOTGATE_SQLITE_PATH) out.store = { ...(out.store ?? {}), kind: "sqlite", path: env.BOTGATE_SQLITE_PATH };
  return out;
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new BotgateError("CONFIG_INVALID", `cannot read config file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("top level must be an object");
    return v;
  } catch (cause) {
    throw new BotgateError("CONFIG_INVALID", `config file ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

export function loadConfig(path: string, env: Env): Config {
  return parseConfig(applyEnv(readConfigFile(path), env));
}

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export interface Starter {
  /** The config file's content. */
  raw: Record<string, unknown>;
  botName: string;
  secret: string;
  salt: string;
}

/** A starter config with a generated secret, salt and admin token (not written yet: validate it with the environment first). */
export function makeStarterConfig(botName = "MyBot"): Starter {
  const secret = randomHex(32);
  const salt = randomHex(16);
  const raw = {
    listen: { host: "0.0.0.0", port: 37888 },
    store: { kind: "sqlite", path: "data/botgate.sqlite" },
    bots: [{ name: botName, secret, salt, autoApprove: true }],
    admin: { host: "127.0.0.1", port: 37889, token: randomHex(24) },
    log: { level: "info" },
  };
  return { raw, botName, secret, salt };
}

/** Write a starter config with owner-only permissions; never over an existing file. */
export function writeStarterConfig(path: string, starter: Starter): void {
  const dir = dirname(path);
  if (dir && dir !== "." && !existsSync(dir)) mkdirSync(dir, { recursive: true });
  writeFileSync(path, JSON.stringify(starter.raw, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
}
