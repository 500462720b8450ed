// A small Bun HTTP server speaking the subset of the PlanetScale HTTP API that
// @planetscale/database 1.20 uses (CreateSession, Execute), backed by MySQL/MariaDB via Bun.SQL.
import { SQL } from "bun";
import { createHash, timingSafeEqual } from "node:crypto";
import { checkStatementTimeout, ProxyError, SessionTable, withSetup, type ConnPool, type RawResult } from "./sessions.ts";
import { toField, toRow } from "./vitess.ts";

export interface PsdbProxyOptions {
  /** mysql://user:pass@host:port/database */
  mysqlUrl: string;
  /** 0 picks a free port. */
  port: number;
  hostname?: string;
  username: string;
  password: string;
  /** Sessions idle longer than this are dropped (open transactions roll back). Default 60 s. */
  sessionIdleMs?: number;
  /** Also the MySQL pool size: each session holds one connection. Default 32. */
  maxSessions?: number;
  /** A statement running longer fails with DEADLINE_EXCEEDED, is killed on the server and closes its session. Default 10 s (the store's request deadline). */
  statementTimeoutMs?: number;
  /** Where the proxy says what went wrong outside a request (a stalled statement it could not kill). Default: console.warn. */
  warn?: (message: string) => void;
}

export interface PsdbProxy {
  /** http://user:pass@host:port, ready for `connect({ url })`. */
  url: string;
  /** Driver sessions currently held (read-only; idle ones are swept after sessionIdleMs). */
  readonly sessionCount: number;
  stop(): Promise<void>;
}

const PREFIX = "/psdb.v1alpha1.Database/";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Vitess-style error: message carries errno/sqlstate so clients can match e.g. `(errno 1062)`. */
function vitessError(err: unknown): { code: string; message: string } {
  if (err instanceof ProxyError) return { code: err.code, message: err.message };
  const e = err as { message?: string; errno?: number; sqlState?: string };
  if (typeof e?.errno !== "number") return { code: "UNAVAILABLE", message: `MySQL connection failed: ${e?.message ?? err}` };
  const code =
    e.errno === 1062 ? "ALREADY_EXISTS"
    : e.errno === 1146 ? "NOT_FOUND"
    : e.errno === 1205 || e.errno === 1213 ? "ABORTED"
    : e.errno === 1064 || e.errno === 1054 ? "INVALID_ARGUMENT"
    : "UNKNOWN";
  return { code, message: `${e.message} (errno ${e.errno}) (sqlstate ${e.sqlState ?? "HY000"})` };
}

/** A statement list (multi-statement query) resolves to an array of results; report the last. */
function lastResult(res: RawResult): RawResult {
  const first = res[0];
  if (Array.isArray(first) && "columns" in first) return res[res.length - 1] as RawResult;
  return res;
}

function encodeResult(res: RawResult) {
  const r = lastResult(res);
  return {
    fields: (r.columns ?? []).map(toField),
    rows: (r as unknown as (Uint8Array | null)[][]).map(toRow),
    rowsAffected: String(r.affectedRows ?? 0),
    insertId: String(r.lastInsertRowid ?? 0),
  };
}

const BACKSLASH_ESCAPES_ON = "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))";

export function startPsdbProxy(opts: PsdbProxyOptions): PsdbProxy {
  checkStatementTimeout(opts.statementTimeoutMs); // before anything is opened
  const maxSessions = opts.maxSessions ?? 32;
  const sql = new SQL({ url: opts.mysqlUrl, adapter: "mysql", max: maxSessions, connectionTimeout: 10 });
  const pool = sql as unknown as ConnPool;
  // KILL runs on a connection of its own: the pool may be full of reserved sessions.
  let killer: SQL | null = null;
  const kill = (serverId: number) => {
    killer ??= new SQL({ url: opts.mysqlUrl, adapter: "mysql", max: 1, connectionTimeout: 10 });
    return killer.unsafe(`KILL ${serverId}`); // a safe integer from CONNECTION_ID()
  };
  // The driver escapes quotes in values with backslashes, as PlanetScale expects. A server whose
  // sql_mode has NO_BACKSLASH_ESCAPES would break on every quote (or store backslashes): each
  // reserved connection clears that one flag for its session first (within the reserve deadline).
  const sessions = new SessionTable(withSetup(pool, BACKSLASH_ESCAPES_ON), {
    idleMs: opts.sessionIdleMs ?? 60_000,
    maxSessions,
    reserveTimeoutMs: 10_000,
    statementTimeoutMs: opts.statementTimeoutMs,
    kill,
    onKillFailed: (m) => (opts.warn ?? console.warn)(`psdb-proxy: ${m}`),
  });
  const expected = digest(`${opts.username}:${opts.password}`);

  function matches(pair: string): boolean {
    return timingSafeEqual(digest(pair), expected);
  }

  /** The driver sends the userinfo of its URL still percent-encoded; accept it raw or decoded. */
  function user(req: Request): string | null {
    const h = req.headers.get("authorization") ?? "";
    if (!h.startsWith("Basic ")) return null;
    let pair: string;
    try {
      pair = atob(h.slice(6).trim());
    } catch {
      return null;
    }
    if (matches(pair)) return opts.username;
    const colon = pair.indexOf(":");
    try {
      const decoded = `${decodeURIComponent(pair.slice(0, colon))}:${decodeURIComponent(pair.slice(colon + 1))}`;
      if (colon >= 0 && decoded !== pair && matches(decoded)) return opts.username;
    } catch {
      // not percent-encoded
    }
    return null;
  }

  async function execute(body: { query?: unknown; session?: unknown }, who: string): Promise<Response> {
    if (typeof body.query !== "string" || body.query.trim() === "") {
      return json(400, { error: { code: "INVALID_ARGUMENT", message: "query must be a non-empty string" } });
    }
    let s;
    try {
      s = sessions.resolve(body.session, who);
    } catch (err) {
      // Hand out a fresh session with the error so the driver recovers on its next call.
      const fresh = err instanceof ProxyError && err.code === "ABORTED" ? sessions.token(sessions.open(who)) : undefined;
      return json(200, { session: fresh, error: vitessError(err) });
    }
    const started = performance.now();
    try {
      const res = await sessions.run(s, body.query);
      const timing = (performance.now() - started) / 1000;
      return json(200, { session: sessions.token(s), result: encodeResult(res), timing });
    } catch (err) {
      return json(200, { session: sessions.token(s), error: vitessError(err) });
    }
  }

  const server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname ?? "127.0.0.1",
    maxRequestBodySize: 16 * 1024 * 1024,
    idleTimeout: 120,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (!path.startsWith(PREFIX)) return json(404, { error: { code: "NOT_FOUND", message: `no route ${path}` } });
      if (req.method !== "POST") return json(405, { error: { code: "INVALID_ARGUMENT", message: "use POST" } });
      const who = user(req);
      if (!who) {
        return json(401, { error: { code: "UNAUTHENTICATED", message: "invalid username or password" } }, {
          "www-authenticate": 'Basic realm="psdb-proxy"',
        });
      }
      let body: { query?: unknown; session?: unknown };
      try {
        body = (await req.json()) ?? {};
      } catch {
        return json(400, { error: { code: "INVALID_ARGUMENT", message: "body must be JSON" } });
      }
      switch (path.slice(PREFIX.length)) {
        case "CreateSession":
          try {
            return json(200, { session: sessions.token(sessions.open(who)) });
          } catch (err) {
            return json(503, { error: vitessError(err) });
          }
        case "Execute":
          return execute(body, who);
        default:
          return json(404, { error: { code: "UNIMPLEMENTED", message: `${path} is not implemented` } });
      }
    },
  });

  const creds = `${encodeURIComponent(opts.username)}:${encodeURIComponent(opts.password)}`;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${creds}@${server.hostname}:${server.port}`,
    get sessionCount() {
      return sessions.size;
    },
    stop() {
      stopping ??= (async () => {
        await server.stop(true);
        sessions.closeAll();
        await sql.close({ timeout: 0 });
        await killer?.close({ timeout: 0 });
      })();
      return stopping;
    },
  };
}
