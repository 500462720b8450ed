import { BotgateError, type FieldError } from "../errors.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../store/types.ts";
import { key as storeKey } from "../store/validate.ts";

/** Everything botgate can be configured with; defaults below, validated by parseConfig(). */
export interface BotOptions {
  name: string;
  secret: string;
  salt: string;
  /** New devices start `approved` instead of `pending`. */
  autoApprove: boolean;
  /** Module path of a TypeScript/JS handler; absent = built-in example bot (unless webhook). */
  handler: string | null;
  webhook: { url: string; secret: string } | null;
  /** Per-bot job deadline; null = pipeline.jobTimeoutMs. */
  jobTimeoutMs: number | null;
  /** Route a reply through another approved device of the bot when the origin is gone. */
  replyFallback: boolean;
}

/** `requestTimeoutMs`: deadline of each HTTP request to the MySQL endpoint (see docs/stores.md). */
export type StoreOptions =
  | { kind: "sqlite"; path: string; pingRetention: number }
  | { kind: "mysql"; url: string; pingRetention: number; requestTimeoutMs: number };

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface Config {
  listen: { host: string; port: number; tls: { certFile: string; keyFile: string } | null; acceptQueues: number };
  handshakeTimeoutMs: number;
  pingIntervalMs: number;
  /** A session that receives nothing for this long is closed (default 2.5 ping intervals). */
  idleTimeoutMs: number;
  authWindowMs: number;
  maxAuthFailures: number;
  maxLineBytes: number;
  outboundCapBytes: number;
  takeoverFlushMs: number;
  /** At shutdown, how long accepted work may go on being answered before sessions close (0 = no drain). */
  shutdownDrainMs: number;
  allowUnknownDeviceId: boolean;
  store: StoreOptions;
  bots: BotOptions[];
  pipeline: {
    queueSize: number;
    ttlMs: number;
    workers: number;
    jobTimeoutMs: number;
    perBotConcurrency: number;
    perRoomConcurrency: number;
    maxZombies: number;
    replyGapMs: number;
    dedupeWindowMs: number;
    /** Cap on remembered logIds (all bots); under a flood the dedupe window shortens instead of memory growing. */
    dedupeMaxEntries: number;
  };
  admin: { enabled: boolean; host: string; port: number; token: string | null };
  log: { level: LogLevel };
}

export const DEFAULT_PORT = 37888;
export const DEFAULT_ADMIN_PORT = 37889;

export function defaultConfig(): Config {
  return {
    listen: { host: "0.0.0.0", port: DEFAULT_PORT, tls: null, acceptQueues: 8 },
    handshakeTimeoutMs: 10_000,
    pingIntervalMs: 30_000,
    idleTimeoutMs: 75_000,
    authWindowMs: 300_000,
    maxAuthFailures: 5,
    maxLineBytes: 128 * 1024,
    outboundCapBytes: 4 * 1024 * 1024,
    takeoverFlushMs: 2_000,
    shutdownDrainMs: 5_000,
    allowUnknownDeviceId: false,
    store: { kind: "sqlite", path: "data/botgate.sqlite", pingRetention: 1000 },
    bots: [],
    pipeline: {
      queueSize: 2000,
      ttlMs: 30_000,
      workers: 31,
      jobTimeoutMs: 300_000,
      perBotConcurrency: 30,
      perRoomConcurrency: 3,
      maxZombies: 100,
      replyGapMs: 1000,
      dedupeWindowMs: 10 * 60_000,
      dedupeMaxEntries: 500_000,
    },
    admin: { enabled: true, host: "127.0.0.1", port: DEFAULT_ADMIN_PORT, token: null },
    log: { level: "info" },
  };
}

type Obj = Record<string, unknown>;

class Checker {
  errors: FieldError[] = [];
  fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }
  obj(v: unknown, path: string): Obj {
    if (v === undefined) return {};
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      this.fail(path, "must be an object");
      return {};
    }
    return v as Obj;
  }
  int(o: Obj, key: string, path: string, def: number, min: number, max: number): number {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.fail(`${path}.${key}`, "must be an integer");
      return def;
    }
    if (v < min || v > max) {
      this.fail(`${path}.${key}`, `must be between ${min} and ${max}`);
      return def;
    }
    return v;
  }
  str(o: Obj, key: string, path: string, def: string, opts: { min?: number; max?: number } = {}): string {
    const v = o[key];
    if (v === undefined) {
      // A default that would fail the check is no default: the setting is required (bot secret, salt, name, URLs, TLS files).
      if (def.length < (opts.min ?? 0)) this.fail(`${path}.${key}`, "required");
      return def;
    }
    if (typeof v !== "string") {
      this.fail(`${path}.${key}`, "must be a string");
      return def;
    }
    if (v.length < (opts.min ?? 0)) this.fail(`${path}.${key}`, `must be at least ${opts.min} characters`);
    if (v.length > (opts.max ?? 4096)) this.fail(`${path}.${key}`, `must be at most ${opts.max ?? 4096} characters`);
    return v;
  }
  bool(o: Obj, key: string, path: string, def: boolean): boolean {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v !== "boolean") {
      this.fail(`${path}.${key}`, "must be true or false");
      return def;
    }
    return v;
  }
  unknownKeys(o: Obj, allowed: string[], path: string): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(path ? `${path}.${k}` : k, "unknown setting");
  }
}

const MIN_SECRET = 16;

/** Parses as a URL with an http(s) scheme and a host (fetch() would refuse anything less at the first message). */
function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** Validate a raw config object (from the file, env already merged); throws CONFIG_INVALID listing every problem. */
export function parseConfig(raw: unknown): Config {
  const d = defaultConfig();
  const c = new Checker();
  const root = c.obj(raw, "config");
  c.unknownKeys(
    root,
    ["$schema", "listen", "handshakeTimeoutMs", "pingIntervalMs", "idleTimeoutMs", "authWindowMs", "maxAuthFailures", "maxLineBytes", "outboundCapBytes", "takeoverFlushMs", "shutdownDrainMs", "allowUnknownDeviceId", "store", "bots", "pipeline", "admin", "log"],
    "",
  );

  const l = c.obj(root.listen, "listen");
  c.unknownKeys(l, ["host", "port", "tls", "acceptQueues"], "listen");
  const tlsRaw = l.tls === undefined || l.tls === null ? null : c.obj(l.tls, "listen.tls");
  const listen: Config["listen"] = {
    host: c.str(l, "host", "listen", d.listen.host, { min: 1, max: 255 }),
    port: c.int(l, "port", "listen", d.listen.port, 0, 65535),
    tls: tlsRaw ? { certFile: c.str(tlsRaw, "certFile", "listen.tls", "", { min: 1 }), keyFile: c.str(tlsRaw, "keyFile", "listen.tls", "", { min: 1 }) } : null,
    acceptQueues: c.int(l, "acceptQueues", "listen", d.listen.acceptQueues, 1, 64),
  };

  const pingIntervalMs = c.int(root, "pingIntervalMs", "config", d.pingIntervalMs, 50, 3_600_000);
  const idleDefault = Math.round(pingIntervalMs * 2.5);
  const cfg: Config = {
    listen,
    handshakeTimeoutMs: c.int(root, "handshakeTimeoutMs", "config", d.handshakeTimeoutMs, 50, 600_000),
    pingIntervalMs,
    idleTimeoutMs: c.int(root, "idleTimeoutMs", "config", idleDefault, 100, 24 * 3_600_000),
    authWindowMs: c.int(root, "authWindowMs", "config", d.authWindowMs, 1000, 3_600_000),
    maxAuthFailures: c.int(root, "maxAuthFailures", "config", d.maxAuthFailures, 1, 1000),
    maxLineBytes: c.int(root, "maxLineBytes", "config", d.maxLineBytes, 1024, 16 * 1024 * 1024),
    outboundCapBytes: c.int(root, "outboundCapBytes", "config", d.outboundCapBytes, 64 * 1024, 1024 * 1024 * 1024),
    takeoverFlushMs: c.int(root, "takeoverFlushMs", "config", d.takeoverFlushMs, 0, 60_000),
    shutdownDrainMs: c.int(root, "shutdownDrainMs", "config", d.shutdownDrainMs, 0, 600_000),
    allowUnknownDeviceId: c.bool(root, "allowUnknownDeviceId", "config", d.allowUnknownDeviceId),
    store: d.store,
    bots: [],
    pipeline: { ...d.pipeline },
    admin: { ...d.admin },
    log: { ...d.log },
  };
  if (cfg.idleTimeoutMs <= pingIntervalMs) c.fail("idleTimeoutMs", "must be longer than pingIntervalMs, or every session is closed between two pings");

  const s = c.obj(root.store, "store");
  c.unknownKeys(s, ["kind", "path", "url", "pingRetention", "requestTimeoutMs"], "store");
  const kind = s.kind ?? "sqlite";
  const pingRetention = c.int(s, "pingRetention", "store", d.store.pingRetention, 1, 1_000_000);
  // Checked for either kind (like url and path), used by mysql only.
  const requestTimeoutMs = c.int(s, "requestTimeoutMs", "store", DEFAULT_REQUEST_TIMEOUT_MS, 100, 600_000);
  if (kind === "sqlite") cfg.store = { kind, path: c.str(s, "path", "store", "data/botgate.sqlite", { min: 1 }), pingRetention };
  else if (kind === "mysql") {
    const url = c.str(s, "url", "store", "", { min: 1 });
    if (url && !/^https?:\/\//.test(url)) c.fail("store.url", "must be the http(s) URL of a PlanetScale-compatible endpoint, e.g. https://user:pass@host");
    cfg.store = { kind, url, pingRetention, requestTimeoutMs };
  } else c.fail("store.kind", `must be "sqlite" or "mysql"`);

  const p = c.obj(root.pipeline, "pipeline");
  c.unknownKeys(p, Object.keys(d.pipeline), "pipeline");
  const dp = d.pipeline;
  cfg.pipeline = {
    queueSize: c.int(p, "queueSize", "pipeline", dp.queueSize, 1, 1_000_000),
    ttlMs: c.int(p, "ttlMs", "pipeline", dp.ttlMs, 1, 3_600_000),
    workers: c.int(p, "workers", "pipeline", dp.workers, 1, 10_000),
    jobTimeoutMs: c.int(p, "jobTimeoutMs", "pipeline", dp.jobTimeoutMs, 1, 3_600_000),
    perBotConcurrency: c.int(p, "perBotConcurrency", "pipeline", dp.perBotConcurrency, 1, 10_000),
    perRoomConcurrency: c.int(p, "perRoomConcurrency", "pipeline", dp.perRoomConcurrency, 1, 10_000),
    // At least 1: with 0, work could never start (new work waits while zombies >= cap).
    maxZombies: c.int(p, "maxZombies", "pipeline", dp.maxZombies, 1, 100_000),
    replyGapMs: c.int(p, "replyGapMs", "pipeline", dp.replyGapMs, 0, 60_000),
    dedupeWindowMs: c.int(p, "dedupeWindowMs", "pipeline", dp.dedupeWindowMs, 0, 24 * 3_600_000),
    dedupeMaxEntries: c.int(p, "dedupeMaxEntries", "pipeline", dp.dedupeMaxEntries, 2, 50_000_000),
  };

  const a = c.obj(root.admin, "admin");
  c.unknownKeys(a, ["enabled", "host", "port", "token"], "admin");
  const token = a.token === undefined || a.token === null ? null : c.str(a, "token", "admin", "", { min: 16, max: 512 });
  // It travels in an HTTP header (Latin-1 only) and is trimmed there: printable ASCII, no spaces.
  if (token !== null && !isHeaderSafeToken(token)) c.fail("admin.token", "must be printable ASCII without spaces (it is sent in an HTTP header)");
  cfg.admin = {
    enabled: c.bool(a, "enabled", "admin", d.admin.enabled),
    host: c.str(a, "host", "admin", d.admin.host, { min: 1 }),
    port: c.int(a, "port", "admin", d.admin.port, 0, 65535),
    token,
  };
  if (cfg.admin.enabled && token === null && !isLoopback(cfg.admin.host)) {
    c.fail("admin.token", `required when admin.host (${cfg.admin.host}) is not a loopback address`);
  }

  const lg = c.obj(root.log, "log");
  c.unknownKeys(lg, ["level"], "log");
  const level = c.str(lg, "level", "log", "info");
  if (!["debug", "info", "warn", "error", "silent"].includes(level)) c.fail("log.level", "must be debug, info, warn, error or silent");
  else cfg.log.level = level as LogLevel;

  const bots = root.bots ?? [];
  if (!Array.isArray(bots)) c.fail("bots", "must be a list");
  else {
    const seen = new Set<string>();
    bots.forEach((b, i) => {
      const path = `bots[${i}]`;
      const o = c.obj(b, path);
      c.unknownKeys(o, ["name", "secret", "salt", "autoApprove", "handler", "webhook", "jobTimeoutMs", "replyFallback"], path);
      const name = c.str(o, "name", path, "", { min: 1, max: 64 });
      try {
        if (name !== "") storeKey("botName", name); // the rules every stored bot name meets
      } catch (err) {
        c.fail(`${path}.name`, (err as Error).message.replace(/^botName /, ""));
      }
      if (seen.has(name)) c.fail(`${path}.name`, `duplicate bot name "${name}"`);
      seen.add(name);
      const wRaw = o.webhook === undefined || o.webhook === null ? null : c.obj(o.webhook, `${path}.webhook`);
      const webhook = wRaw ? { url: c.str(wRaw, "url", `${path}.webhook`, "", { min: 1 }), secret: c.str(wRaw, "secret", `${path}.webhook`, "", { min: MIN_SECRET }) } : null;
      if (webhook && webhook.url && !isHttpUrl(webhook.url)) c.fail(`${path}.webhook.url`, "must be an http(s) URL with a host, e.g. https://bot.example/hook");
      const handler = o.handler === undefined || o.handler === null ? null : c.str(o, "handler", path, "", { min: 1 });
      if (handler && webhook) c.fail(path, "set either handler or webhook, not both");
      const jt = o.jobTimeoutMs === undefined || o.jobTimeoutMs === null ? null : c.int(o, "jobTimeoutMs", path, 0, 1, 3_600_000);
      cfg.bots.push({
        name,
        secret: c.str(o, "secret", path, "", { min: MIN_SECRET, max: 512 }),
        salt: c.str(o, "salt", path, "", { min: 1, max: 512 }),
        autoApprove: c.bool(o, "autoApprove", path, false),
        handler,
        webhook,
        jobTimeoutMs: jt,
        replyFallback: c.bool(o, "replyFallback", path, false),
      });
    });
  }
  if (c.errors.length > 0) {
    const list = c.errors.map((e) => `  - ${e.path}: ${e.message}`).join("\n");
    throw new BotgateError("CONFIG_INVALID", `invalid configuration:\n${list}`, { fields: c.errors });
  }
  return cfg;
}

/** An admin token can travel in an Authorization header as it is: printable ASCII, no spaces (headers are Latin-1 and trimmed). */
export function isHeaderSafeToken(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/** A loopback address literal, or localhost ("127.evil.example" is a name that could resolve anywhere). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
