// Driver sessions -> reserved MySQL connections. One session = one connection, so a driver
// `transaction()` (BEGIN ... COMMIT pinned to one session) is a real MySQL transaction.

/** The minimal shape of a Bun.SQL pool / reserved connection that sessions need. */
export interface RawResult extends Array<unknown> {
  columns?: { name: string; type: number; table: number | string; length?: number; flags?: number }[] | null;
  affectedRows?: number;
  lastInsertRowid?: number | bigint | string | null;
}
export interface ReservedConn {
  unsafe(query: string): { raw(): PromiseLike<RawResult> };
  close(options?: { timeout?: number }): Promise<void>;
  /** The server's id of the connection (CONNECTION_ID()), when known: a stalled statement is killed by it. */
  serverId?: number;
}
export interface ConnPool {
  reserve(options?: { signal?: AbortSignal }): Promise<ReservedConn>;
}

/** `p`, or a rejection with the signal's reason once it aborts (`p` is still observed). */
function untilAborted<T>(p: PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return Promise.resolve(p);
  if (signal.aborted) {
    Promise.resolve(p).then(undefined, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(p).then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** The first column of the first row of a raw result as a connection id (text-protocol bytes or a number). */
function firstId(res: RawResult): number | undefined {
  const v = (res[0] as unknown[] | undefined)?.[0];
  const n = v instanceof Uint8Array ? Number(new TextDecoder().decode(v)) : Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * A pool whose reserved connections first run `statement` (session settings) and learn
 * their server id, under the same deadline as the reservation: a server that accepts the
 * connection and then stalls must not hang the session forever. A connection whose setup
 * fails or times out is closed, not returned to the pool.
 */
export function withSetup(pool: ConnPool, statement: string): ConnPool {
  return {
    async reserve(options) {
      const conn = await pool.reserve(options);
      try {
        await untilAborted(conn.unsafe(statement).raw(), options?.signal);
        conn.serverId = firstId(await untilAborted(conn.unsafe("SELECT CONNECTION_ID()").raw(), options?.signal));
      } catch (err) {
        await conn.close().catch(() => {});
        throw err;
      }
      return conn;
    },
  };
}

/** The opaque object the driver receives and echoes back on every call. */
export interface SessionToken {
  id: string;
  inTransaction: boolean;
}

export class ProxyError extends Error {
  override name = "ProxyError";
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

interface Session {
  id: string;
  user: string;
  conn: ReservedConn | null;
  inTx: boolean;
  /** `SET autocommit = 0` is in force: every statement runs in an open transaction. */
  noAutocommit: boolean;
  lastUsed: number;
  busy: number;
  tail: Promise<unknown>;
}

export interface SessionTableOptions {
  idleMs: number;
  maxSessions: number;
  reserveTimeoutMs: number;
  /** A statement running longer closes its session (default 10 s, the store's request deadline). */
  statementTimeoutMs?: number;
  /**
   * Ends a stalled statement on the server, by its connection's server id (`KILL` from
   * another connection): closing the connection alone leaves it running until MySQL
   * next checks. Awaited, within reserveTimeoutMs, before the statement's error is returned.
   */
  kill?: (serverId: number) => PromiseLike<unknown>;
  /** A stalled statement that could not be killed (it may still hold its locks): said here. */
  onKillFailed?: (message: string) => void;
}

/** MySQL's ER_NO_SUCH_THREAD: the statement (and its connection) ended before the KILL came. */
const NO_SUCH_THREAD = 1094;

export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

export function isValidStatementTimeout(ms: unknown): ms is number {
  return typeof ms === "number" && Number.isInteger(ms) && ms >= 1 && ms <= 3_600_000;
}

/** Throws a RangeError for a statementTimeoutMs that is given but not usable (0 would fail every statement). */
export function checkStatementTimeout(ms: number | undefined): void {
  if (ms !== undefined && !isValidStatementTimeout(ms)) {
    throw new RangeError(`statementTimeoutMs must be a whole number of milliseconds from 1 to 3600000, got ${ms}`);
  }
}

/** Rejects `p` with `err` after `ms` (`p` is still observed); the timer dies with the race. */
function withDeadline<T>(p: PromiseLike<T>, ms: number, err: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(err()), ms)));
  const run = Promise.resolve(p);
  run.then(undefined, () => {});
  return Promise.race([run, late]).finally(() => clearTimeout(timer));
}

const BEGIN = /^\s*(?:BEGIN\b|START\s+TRANSACTION\b)/i;
// COMMIT / ROLLBACK [WORK], but not ROLLBACK TO a savepoint, nor ... AND CHAIN (which opens the next one).
const END = /^\s*(?:COMMIT|ROLLBACK)\b(?!\s+(?:WORK\s+)?TO\b)(?!\s+(?:WORK\s+)?AND\s+CHAIN\b)/i;
const AUTOCOMMIT = /^\s*SET\s+(?:SESSION\s+|LOCAL\s+|@@SESSION\.|@@LOCAL\.|@@)?autocommit\s*:?=\s*(0|1|OFF|ON|FALSE|TRUE)\s*;?\s*$/i;

/** Work that a lost connection would lose: an open transaction, or autocommit switched off. */
function holdsWork(s: Session): boolean {
  return s.inTx || s.noAutocommit;
}

export class SessionTable {
  #sessions = new Map<string, Session>();
  #sweeper: ReturnType<typeof setInterval>;

  constructor(private readonly pool: ConnPool, private readonly opts: SessionTableOptions) {
    checkStatementTimeout(opts.statementTimeoutMs);
    this.#sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(opts.idleMs / 2, 5000)));
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  get size(): number {
    return this.#sessions.size;
  }

  token(s: Session): SessionToken {
    return { id: s.id, inTransaction: holdsWork(s) };
  }

  /** A new session; its connection is reserved on the first query. */
  open(user: string): Session {
    if (this.#sessions.size >= this.opts.maxSessions) this.#evictOne();
    const s: Session = { id: crypto.randomUUID(), user, conn: null, inTx: false, noAutocommit: false, lastUsed: Date.now(), busy: 0, tail: Promise.resolve() };
    this.#sessions.set(s.id, s);
    return s;
  }

  /**
   * The live session for a token, a new one when the token is empty or names a session that is
   * gone but was not in a transaction; throws ABORTED when a transaction was lost with it.
   */
  resolve(token: unknown, user: string): Session {
    const t = token as Partial<SessionToken> | null | undefined;
    const id = typeof t?.id === "string" ? t.id : undefined;
    const live = id ? this.#sessions.get(id) : undefined;
    if (live && live.user === user) return live;
    if (id && t?.inTransaction === true) {
      throw new ProxyError("ABORTED", "session expired or its connection was lost; the open transaction was rolled back");
    }
    return this.open(user);
  }

  /** Runs one statement on the session's connection, in arrival order. */
  run(s: Session, query: string): Promise<RawResult> {
    s.busy++;
    s.lastUsed = Date.now();
    const job = s.tail.then(() => this.#exec(s, query));
    s.tail = job.catch(() => {});
    return job.finally(() => {
      s.busy--;
      s.lastUsed = Date.now();
    });
  }

  async #exec(s: Session, query: string): Promise<RawResult> {
    if (!this.#sessions.has(s.id)) throw new ProxyError("ABORTED", "session was closed");
    if (!s.conn) {
      try {
        s.conn = await this.pool.reserve({ signal: AbortSignal.timeout(this.opts.reserveTimeoutMs) });
      } catch (cause) {
        this.#drop(s);
        throw new ProxyError("UNAVAILABLE", `cannot reach MySQL: ${(cause as Error)?.message ?? cause}`, { cause });
      }
    }
    const ms = this.opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    let stalled = false;
    try {
      const res = await withDeadline(s.conn.unsafe(query).raw(), ms, () => {
        stalled = true;
        return new ProxyError("DEADLINE_EXCEEDED", `statement did not finish within ${ms} ms; its session was closed (an open transaction rolled back)`);
      });
      if (BEGIN.test(query)) s.inTx = true;
      else if (END.test(query)) s.inTx = false;
      else {
        const ac = AUTOCOMMIT.exec(query);
        if (ac) s.noAutocommit = /^(?:0|OFF|FALSE)$/i.test(ac[1]!);
      }
      return res;
    } catch (err) {
      // A server error (errno) leaves the connection usable; anything else means it is gone. A
      // stalled statement is still running on its connection: killed on the server, and the
      // connection closed, never handed to another session.
      if (stalled) await this.#killStalled(s);
      else if (typeof (err as { errno?: unknown })?.errno !== "number") this.#drop(s);
      throw err;
    }
  }

  async #killStalled(s: Session): Promise<void> {
    const id = s.conn?.serverId;
    this.#drop(s);
    const { kill, onKillFailed = () => {} } = this.opts;
    if (kill === undefined) return;
    if (id === undefined) return onKillFailed("a stalled statement was not killed: its connection id is unknown");
    const ms = this.opts.reserveTimeoutMs;
    try {
      await withDeadline(kill(id), ms, () => new Error(`no answer within ${ms} ms`));
    } catch (err) {
      // The statement may have ended meanwhile: then there is no thread to kill, and nothing to say.
      if ((err as { errno?: unknown })?.errno === NO_SUCH_THREAD) return;
      onKillFailed(`KILL ${id} of a stalled statement failed (it may still hold its locks): ${(err as Error)?.message ?? err}`);
    }
  }

  #drop(s: Session): void {
    this.#sessions.delete(s.id);
    const conn = s.conn;
    s.conn = null;
    // Closed, never returned to the pool: what the session set on its connection (autocommit,
    // character set, variables, temporary tables, locks) must not reach the next session,
    // and an open transaction is rolled back by the server.
    if (conn) void conn.close().catch(() => {});
  }

  #evictOne(): void {
    let oldest: Session | undefined;
    for (const s of this.#sessions.values()) {
      if (s.busy === 0 && !holdsWork(s) && (!oldest || s.lastUsed < oldest.lastUsed)) oldest = s;
    }
    if (!oldest) throw new ProxyError("RESOURCE_EXHAUSTED", `too many open sessions (max ${this.opts.maxSessions})`);
    this.#drop(oldest);
  }

  /** Drops sessions idle for longer than idleMs (their transactions roll back). */
  sweep(now = Date.now()): void {
    for (const s of this.#sessions.values()) {
      if (s.busy === 0 && now - s.lastUsed > this.opts.idleMs) this.#drop(s);
    }
  }

  closeAll(): void {
    clearInterval(this.#sweeper);
    for (const s of [...this.#sessions.values()]) this.#drop(s);
  }
}
