import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_STATEMENT_TIMEOUT_MS, ProxyError, SessionTable, withSetup, type ConnPool, type RawResult, type ReservedConn } from "../../src/store/psdb-proxy/sessions.ts";
import { startPsdbProxy } from "../../src/store/psdb-proxy/proxy.ts";

/** A fake pool: each reserved connection records its statements and how it ended. */
function fakePool(fail?: (q: string) => unknown, hang?: (q: string) => boolean) {
  const conns: { queries: string[]; ended?: "close" }[] = [];
  const pool: ConnPool = {
    async reserve() {
      const c = { queries: [] as string[], ended: undefined as "close" | undefined };
      conns.push(c);
      const conn: ReservedConn = {
        unsafe: (q) => ({
          raw: async () => {
            c.queries.push(q);
            if (hang?.(q)) return new Promise<RawResult>(() => {}); // a server that accepted the connection, then stalls
            if (q === "SELECT CONNECTION_ID()") return [[new TextEncoder().encode(String(100 + conns.indexOf(c)))]] as unknown as RawResult;
            const err = fail?.(q);
            if (err) throw err;
            return [] as unknown as RawResult;
          },
        }),
        close: async () => void (c.ended = "close"),
      };
      return conn;
    },
  };
  return { pool, conns };
}

let tables: SessionTable[] = [];
afterEach(() => {
  for (const t of tables) t.closeAll();
  tables = [];
});
function table(
  pool: ConnPool,
  maxSessions = 3,
  idleMs = 60_000,
  reserveTimeoutMs = 1000,
  statementTimeoutMs?: number,
  kill?: (id: number) => PromiseLike<unknown>,
  onKillFailed?: (m: string) => void,
) {
  const t = new SessionTable(pool, { idleMs, maxSessions, reserveTimeoutMs, statementTimeoutMs, kill, onKillFailed });
  tables.push(t);
  return t;
}

describe("psdb-proxy sessions", () => {
  test("one session = one connection, statements in order; tokens track transactions", async () => {
    const { pool, conns } = fakePool();
    const t = table(pool);
    const s = t.resolve(null, "u");
    await Promise.all([t.run(s, "BEGIN"), t.run(s, "INSERT 1"), t.run(s, "INSERT 2")]);
    expect(conns).toHaveLength(1);
    expect(conns[0]!.queries).toEqual(["BEGIN", "INSERT 1", "INSERT 2"]);
    expect(t.token(s)).toEqual({ id: s.id, inTransaction: true });
    await t.run(s, "commit");
    expect(t.token(s).inTransaction).toBe(false);
    expect(t.resolve(t.token(s), "u")).toBe(s);
    expect(t.resolve(t.token(s), "other-user")).not.toBe(s); // tokens are bound to the user
  });

  test("unknown session: a new one, unless it was in a transaction", () => {
    const t = table(fakePool().pool);
    expect(t.resolve({ id: "gone", inTransaction: false }, "u").id).not.toBe("gone");
    expect(() => t.resolve({ id: "gone", inTransaction: true }, "u")).toThrow(/rolled back/);
  });

  test("full table evicts the least recently used idle session; all in transactions -> RESOURCE_EXHAUSTED", async () => {
    const { pool, conns } = fakePool();
    const t = table(pool, 2);
    const a = t.resolve(null, "u");
    await t.run(a, "SELECT 1");
    const b = t.resolve(null, "u");
    await t.run(b, "BEGIN");
    const c = t.resolve(null, "u"); // evicts a (b is in a transaction)
    expect(t.size).toBe(2);
    expect(conns[0]!.ended).toBe("close"); // never back in the pool: its session state would leak
    await t.run(c, "BEGIN"); // now both sessions are in transactions
    let e: unknown;
    try {
      t.resolve(null, "u");
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(ProxyError);
    expect((e as ProxyError).code).toBe("RESOURCE_EXHAUSTED");
  });

  test("server errors keep the session; connection errors drop it", async () => {
    const { pool } = fakePool((q) =>
      q === "bad sql" ? Object.assign(new Error("syntax"), { errno: 1064 }) : q === "crash" ? new Error("connection closed") : undefined,
    );
    const t = table(pool);
    const s = t.resolve(null, "u");
    await expect(t.run(s, "bad sql")).rejects.toThrow("syntax");
    expect(t.resolve(t.token(s), "u")).toBe(s);
    await expect(t.run(s, "crash")).rejects.toThrow("connection closed");
    expect(t.resolve(t.token(s), "u")).not.toBe(s);
  });

  test("sweep drops idle sessions and closes their connections (none goes back to the pool)", async () => {
    const { pool, conns } = fakePool();
    const t = table(pool, 5, 1000);
    const idle = t.resolve(null, "u");
    await t.run(idle, "SELECT 1");
    const tx = t.resolve(null, "u");
    await t.run(tx, "START TRANSACTION");
    t.sweep(Date.now() + 2000);
    expect(t.size).toBe(0);
    expect(conns.map((c) => c.ended)).toEqual(["close", "close"]);
    expect(() => t.resolve(t.token(tx), "u")).toThrow(ProxyError);
  });

  test("transaction tracking: AND CHAIN keeps it open, ROLLBACK TO a savepoint too; autocommit off holds work like a transaction", async () => {
    const { pool } = fakePool();
    const t = table(pool, 5);
    const s = t.resolve(null, "u");
    const inTx = () => t.token(s).inTransaction;
    for (const [q, open] of [
      ["BEGIN", true],
      ["COMMIT AND CHAIN", true],
      ["commit work and chain", true],
      ["ROLLBACK WORK TO SAVEPOINT a", true],
      ["ROLLBACK TO a", true],
      ["COMMIT AND NO CHAIN", false],
      ["START TRANSACTION", true],
      ["ROLLBACK", false],
      ["SET autocommit = 0", true],
      ["COMMIT", true], // autocommit is still off: the next statement opens a transaction
      ["SET @@session.autocommit=ON", false],
      ["set session autocommit = OFF;", true],
      ["SET autocommit=1", false],
    ] as const) {
      await t.run(s, q);
      expect([q, inTx()]).toEqual([q, open]);
    }
    await t.run(s, "SET autocommit = 0");
    const token = t.token(s);
    t.sweep(Date.now() + 120_000); // the session (and the work it held) is gone
    expect(() => t.resolve(token, "u")).toThrow(/rolled back/);
  });
  test("withSetup: each reserved connection runs its setup statement first, once, and learns its server id", async () => {
    const { pool, conns } = fakePool();
    const setup = withSetup(pool, "SET SESSION x = 1");
    const t = table(setup);
    const s = t.resolve(null, "u");
    await t.run(s, "SELECT 1");
    await t.run(s, "SELECT 2");
    expect(conns).toHaveLength(1);
    expect(conns[0]!.queries).toEqual(["SET SESSION x = 1", "SELECT CONNECTION_ID()", "SELECT 1", "SELECT 2"]);
    expect((await setup.reserve()).serverId).toBe(101); // the next connection's id, read from its row
  });

  test("withSetup: a setup that stalls fails within the reserve deadline and its connection is closed", async () => {
    const { pool, conns } = fakePool(undefined, (q) => q.startsWith("SET"));
    const t = table(withSetup(pool, "SET SESSION x = 1"), 3, 60_000, 150);
    const s = t.resolve(null, "u");
    const t0 = performance.now();
    const err = await t.run(s, "SELECT 1").then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe("UNAVAILABLE");
    expect(performance.now() - t0).toBeLessThan(5000); // the deadline, not forever
    expect(conns[0]!.queries).toEqual(["SET SESSION x = 1"]); // the query never ran on it
    expect(conns[0]!.ended).toBe("close");
    expect(t.size).toBe(0);
  });

  test("withSetup: a setup the server refuses fails the reservation and closes the connection", async () => {
    const { pool, conns } = fakePool((q) => (q.startsWith("SET") ? Object.assign(new Error("denied"), { errno: 1227 }) : undefined));
    const t = table(withSetup(pool, "SET SESSION x = 1"));
    const s = t.resolve(null, "u");
    await expect(t.run(s, "SELECT 1")).rejects.toThrow(/denied/);
    expect(conns[0]!.ended).toBe("close");
  });
  test("a statement that stalls fails with DEADLINE_EXCEEDED, closes its connection and frees the session slot", async () => {
    const { pool, conns } = fakePool(undefined, (q) => q === "SELECT SLEEP(1000)");
    const t = table(pool, 1, 60_000, 1000, 150);
    const s = t.resolve(null, "u");
    await t.run(s, "SELECT 1");
    const stalled = t.run(s, "SELECT SLEEP(1000)").then(() => null, (e: unknown) => e);
    const queued = t.run(s, "SELECT 2").then(() => null, (e: unknown) => e); // behind it on the same session
    const err = await stalled;
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe("DEADLINE_EXCEEDED");
    expect(((await queued) as ProxyError).code).toBe("ABORTED");
    expect(conns[0]!.ended).toBe("close"); // still busy with the statement: never back in the pool
    expect(conns[0]!.queries).not.toContain("SELECT 2");
    // The one session slot is free again, and the driver's old token gets a working session.
    const next = t.resolve(t.token(s), "u");
    expect(next).not.toBe(s);
    await t.run(next, "SELECT 3");
    expect(conns[1]!.queries).toEqual(["SELECT 3"]);
  });

  test("a stalled statement is killed on the server by its connection's id before its error is returned", async () => {
    const { pool, conns } = fakePool(undefined, (q) => q === "SELECT SLEEP(1000)");
    const killed: number[] = [];
    const t = table(withSetup(pool, "SET x = 1"), 2, 60_000, 1000, 150, async (id) => void killed.push(id));
    const other = t.resolve(null, "u");
    await t.run(other, "SELECT 1"); // connection 0: id 100
    const s = t.resolve(null, "u");
    const err = await t.run(s, "SELECT SLEEP(1000)").then(() => null, (e: unknown) => e); // connection 1: id 101
    expect((err as ProxyError).code).toBe("DEADLINE_EXCEEDED");
    expect(killed).toEqual([101]); // already done when the caller hears of the timeout
    expect(conns[1]!.queries).toEqual(["SET x = 1", "SELECT CONNECTION_ID()", "SELECT SLEEP(1000)"]);
    expect(conns[1]!.ended).toBe("close");
  });

  test("a KILL that never answers is waited for up to the reserve deadline, then reported", async () => {
    const { pool } = fakePool(undefined, (q) => q === "SELECT SLEEP(1000)");
    const asked: number[] = [];
    const said: string[] = [];
    const t = table(withSetup(pool, "SET x = 1"), 1, 60_000, 200, 100, (id) => (asked.push(id), new Promise(() => {})), (m) => said.push(m));
    const s = t.resolve(null, "u");
    await t.run(s, "SELECT 1"); // reserved: the statement deadline below counts the stalled statement alone
    const t0 = performance.now();
    const err = await t.run(s, "SELECT SLEEP(1000)").then(() => null, (e: unknown) => e);
    const took = performance.now() - t0;
    expect((err as ProxyError).code).toBe("DEADLINE_EXCEEDED");
    expect(asked).toEqual([100]);
    expect(took).toBeGreaterThanOrEqual(280); // 100 ms statement deadline, then 200 ms waiting for the KILL
    expect(took).toBeLessThan(2000);
    expect(said).toEqual(["KILL 100 of a stalled statement failed (it may still hold its locks): no answer within 200 ms"]);
  });

  test("a failed KILL is reported; one that finds no thread (the statement ended meanwhile) is not; an unknown connection id is reported", async () => {
    const noThread = Object.assign(new Error("Unknown thread id: 100"), { errno: 1094 });
    const denied = Object.assign(new Error("You are not owner of thread 100"), { errno: 1095 });
    for (const [outcome, expected] of [
      [noThread, []],
      [denied, ["KILL 100 of a stalled statement failed (it may still hold its locks): You are not owner of thread 100"]],
    ] as const) {
      const { pool } = fakePool(undefined, (q) => q === "SELECT SLEEP(1000)");
      const said: string[] = [];
      const t = table(withSetup(pool, "SET x = 1"), 1, 60_000, 200, 100, async () => Promise.reject(outcome), (m) => said.push(m));
      const err = await t.run(t.resolve(null, "u"), "SELECT SLEEP(1000)").then(() => null, (e: unknown) => e);
      expect((err as ProxyError).code).toBe("DEADLINE_EXCEEDED");
      expect(said).toEqual([...expected]);
    }
    // A connection whose id could not be read cannot be killed: said so.
    const { pool } = fakePool(undefined, (q) => q === "SELECT SLEEP(1000)");
    const said: string[] = [];
    const t = table(pool, 1, 60_000, 200, 100, async () => {}, (m) => said.push(m)); // no withSetup: no id
    await t.run(t.resolve(null, "u"), "SELECT SLEEP(1000)").catch(() => {});
    expect(said).toEqual(["a stalled statement was not killed: its connection id is unknown"]);
  });

  test("a stalled statement inside a transaction: the transaction is reported rolled back", async () => {
    const { pool } = fakePool(undefined, (q) => q.startsWith("UPDATE"));
    const t = table(pool, 3, 60_000, 1000, 150);
    const s = t.resolve(null, "u");
    await t.run(s, "BEGIN");
    const token = t.token(s);
    await expect(t.run(s, "UPDATE x SET y = 1")).rejects.toThrow(/did not finish/);
    expect(() => t.resolve(token, "u")).toThrow(/rolled back/);
  });
  test("statementTimeoutMs: the default is the store's request deadline; unusable values are refused before anything opens", () => {
    expect(DEFAULT_STATEMENT_TIMEOUT_MS).toBe(10_000);
    for (const bad of [0, -1, 1.5, Number.NaN, 3_600_001]) {
      expect(() => new SessionTable(fakePool().pool, { idleMs: 1000, maxSessions: 1, reserveTimeoutMs: 1000, statementTimeoutMs: bad })).toThrow(RangeError);
      expect(() => startPsdbProxy({ mysqlUrl: "mysql://root@127.0.0.1:1/none", port: 0, username: "u", password: "p", statementTimeoutMs: bad })).toThrow(/statementTimeoutMs/);
    }
  });
});
