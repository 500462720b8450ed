// The conformance suite against a REAL MariaDB/MySQL, through the bundled psdb proxy.
// MariaDB must be running (CI starts it); if it is not, this file FAILS, it does not skip.
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { connect } from "@planetscale/database";
import { openStore } from "../../src/store/open.ts";
import { startPsdbProxy, type PsdbProxy } from "../../src/store/psdb-proxy/proxy.ts";
import { StoreError } from "../../src/store/types.ts";
import { until } from "../support/harness.ts";
import { describeDeviceStoreConformance, hs } from "./conformance.ts";

const SERVER = process.env.BOTGATE_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306";
const DB = `botgate_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const USER = "botgate";
const PASSWORD = "s3cret:with@chars";

const admin = new SQL({ url: `${SERVER}/`, adapter: "mysql", max: 2, connectionTimeout: 5 });
try {
  await admin.unsafe(`CREATE DATABASE \`${DB}\` CHARACTER SET utf8mb4`);
} catch (err) {
  await admin.close();
  throw new Error(
    `MariaDB/MySQL is not reachable at ${SERVER} (${(err as Error).message}). ` +
      "Start it (e.g. `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`) " +
      "or set BOTGATE_TEST_MYSQL=mysql://user:pass@host:port.",
  );
}
const db = new SQL({ url: `${SERVER}/${DB}`, adapter: "mysql", max: 2 });
afterAll(async () => {
  await db.close();
  await admin.unsafe(`DROP DATABASE IF EXISTS \`${DB}\``);
  await admin.close();
});

function proxy(extra: { sessionIdleMs?: number; mysqlUrl?: string; statementTimeoutMs?: number; warn?: (m: string) => void; maxSessions?: number } = {}): PsdbProxy {
  return startPsdbProxy({ mysqlUrl: `${SERVER}/${DB}`, port: 0, username: USER, password: PASSWORD, ...extra });
}

async function emptyTables(): Promise<void> {
  await db.unsafe("DROP TABLE IF EXISTS kb_bot_devices");
  await db.unsafe("DROP TABLE IF EXISTS kb_ping_monitor");
}

describeDeviceStoreConformance("mysql via psdb-proxy", async ({ pingRetention, trimMaxRows }) => {
  await emptyTables();
  const p = proxy();
  const store = await openStore({ kind: "mysql", url: p.url, pingRetention, trimMaxRows });
  return { store, breakBackend: () => p.stop(), cleanup: () => p.stop() };
});

describe("mysql specifics", () => {
  test("kb_bot_devices has exactly the legacy columns, utf8mb4, UNIQUE (bot_name, device_id)", async () => {
    await emptyTables();
    const p = proxy();
    try {
      const store = await openStore({ kind: "mysql", url: p.url });
      await openStore({ kind: "mysql", url: p.url }); // idempotent
      await store.upsertOnHandshake(hs(), "pending");
      const cols = await db.unsafe(
        "SELECT COLUMN_NAME AS c, CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kb_bot_devices' ORDER BY ORDINAL_POSITION",
        [DB],
      );
      expect(cols.map((r: { c: string }) => r.c)).toEqual([
        "id", "bot_name", "device_id", "ip_address", "status", "client_type",
        "client_version", "client_info", "descryption", "created_at", "updated_at",
      ]);
      expect(cols.find((r: { c: string }) => r.c === "bot_name").cs).toBe("utf8mb4");
      const uniq = await db.unsafe(
        "SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kb_bot_devices' AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY' ORDER BY SEQ_IN_INDEX",
        [DB],
      );
      expect(uniq.map((r: { c: string }) => r.c)).toEqual(["bot_name", "device_id"]);
      // created_at stored as UTC: the row's text equals the record's ISO string.
      const [row] = await db.unsafe("SELECT CAST(created_at AS CHAR) AS t FROM kb_bot_devices");
      const rec = await store.get("LOA.i", "ccbd8eee1012327e");
      expect(`${row.t.replace(" ", "T")}Z`).toBe(rec!.createdAt);
    } finally {
      await p.stop();
    }
  });

  test("the injected fetch is used", async () => {
    await emptyTables();
    const p = proxy();
    let calls = 0;
    const counting: typeof fetch = Object.assign((input: RequestInfo | URL, init?: RequestInit) => {
      calls++;
      return fetch(input, init);
    }, { preconnect: fetch.preconnect });
    try {
      const store = await openStore({ kind: "mysql", url: p.url, fetch: counting });
      await store.healthCheck();
      expect(calls).toBeGreaterThan(2);
    } finally {
      await p.stop();
    }
  });

  test("a wrong password or an unreachable proxy gives StoreError", async () => {
    const p = proxy();
    try {
      const bad = new URL(p.url);
      bad.password = "wrong";
      const e = await openStore({ kind: "mysql", url: bad.toString() }).catch((x) => x);
      expect(e).toBeInstanceOf(StoreError);
      expect(String(e.message)).toMatch(/password/);
    } finally {
      await p.stop();
    }
    const down = await openStore({ kind: "mysql", url: p.url }).catch((x) => x); // stopped
    expect(down).toBeInstanceOf(StoreError);
    expect(await openStore({ kind: "mysql", url: "mysql://root@127.0.0.1/x" }).catch((x) => x)).toBeInstanceOf(StoreError);
  });

  test("MySQL down behind a running proxy gives StoreError", async () => {
    const p = proxy({ mysqlUrl: "mysql://root@127.0.0.1:1/none" });
    try {
      const e = await openStore({ kind: "mysql", url: p.url }).catch((x) => x);
      expect(e).toBeInstanceOf(StoreError);
      expect(String(e.message)).toMatch(/MySQL/);
    } finally {
      await p.stop();
    }
  });

  test("concurrent upserts of one key from separate stores (separate MySQL connections) yield one row", async () => {
    await emptyTables();
    const p = proxy();
    try {
      const stores = await Promise.all(Array.from({ length: 6 }, () => openStore({ kind: "mysql", url: p.url })));
      const recs = await Promise.all(
        stores.flatMap((st, i) => [0, 1, 2].map((j) => st.upsertOnHandshake(hs({ ipAddress: `10.0.${i}.${j}` }), "pending"))),
      );
      expect(new Set(recs.map((r) => r.id)).size).toBe(1);
      const [{ n }] = await db.unsafe("SELECT COUNT(*) AS n FROM kb_bot_devices");
      expect(Number(n)).toBe(1);
    } finally {
      await p.stop();
    }
  });

  test("a server in NO_BACKSLASH_ESCAPES mode: quotes and backslashes still round-trip (the proxy clears the flag per connection)", async () => {
    await emptyTables();
    const [{ mode }] = await admin.unsafe("SELECT @@GLOBAL.sql_mode AS mode");
    // new connections (the proxy's) start in this mode; restored below
    await admin.unsafe(`SET GLOBAL sql_mode = '${String(mode) ? `${mode},` : ""}NO_BACKSLASH_ESCAPES'`);
    const p = proxy();
    try {
      const store = await openStore({ kind: "mysql", url: p.url });
      const info = `it's a "quoted" \\ back\\slash, 한국어 😀`;
      await store.upsertOnHandshake(hs({ clientInfo: info }), "pending");
      expect((await store.get(hs().botName, hs().deviceId))!.clientInfo).toBe(info);
      await store.recordPings([{ botName: hs().botName, deviceId: hs().deviceId, rttMs: 5, monitoring: { note: info }, at: new Date().toISOString() }]);
      expect((await store.listPings(hs().botName, hs().deviceId, 1))[0]!.monitoring).toEqual({ note: info });
      await store.close();
    } finally {
      await admin.unsafe(`SET GLOBAL sql_mode = '${mode}'`);
      await p.stop();
    }
  });

  test("a legacy table whose keys ignore case is used as it is, with a warning saying how to make keys exact", async () => {
    await emptyTables();
    const p = proxy();
    try {
      const fresh = await openStore({ kind: "mysql", url: p.url });
      expect(fresh.warnings).toEqual([]); // our own schema: utf8mb4_bin
      await fresh.close();
      await emptyTables();
      // as the legacy Python server's migration may have left it
      await db.unsafe(`CREATE TABLE kb_bot_devices (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, bot_name VARCHAR(100) NOT NULL, device_id VARCHAR(128) NOT NULL,
        ip_address VARCHAR(45) NULL, status ENUM('pending','approved','denied','revoked','blocked') NOT NULL DEFAULT 'pending',
        client_type VARCHAR(50) NOT NULL, client_version VARCHAR(50) NOT NULL, client_info VARCHAR(1000) NULL,
        descryption VARCHAR(1000) NULL, created_at DATETIME(3) NOT NULL, updated_at DATETIME(3) NOT NULL,
        UNIQUE KEY uq_bot_device (bot_name, device_id)) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
      const legacy = await openStore({ kind: "mysql", url: p.url });
      expect(legacy.warnings).toHaveLength(1);
      expect(legacy.warnings![0]).toContain("bot_name (utf8mb4_general_ci) and device_id (utf8mb4_general_ci)");
      expect(legacy.warnings![0]).toContain("COLLATE utf8mb4_bin");
      await legacy.close();
      // an endpoint that cannot answer the check (no information_schema): the store still opens, with a note
      const noSchema: typeof fetch = Object.assign(
        async (input: RequestInfo | URL, init?: RequestInit) =>
          typeof init?.body === "string" && init.body.includes("information_schema")
            ? Response.json({ session: null, error: { code: "NOT_FOUND", message: "information_schema is not available" } })
            : fetch(input, init),
        { preconnect: fetch.preconnect },
      );
      const opened = await openStore({ kind: "mysql", url: p.url, fetch: noSchema });
      expect(opened.warnings).toEqual([expect.stringContaining("could not check the collation of kb_bot_devices")]);
      await opened.healthCheck();
      await opened.close();
    } finally {
      await p.stop();
      await emptyTables();
    }
  });

  test("an idle-expired session is replaced transparently", async () => {
    await emptyTables();
    const p = proxy({ sessionIdleMs: 100 });
    try {
      const store = await openStore({ kind: "mysql", url: p.url });
      await store.upsertOnHandshake(hs(), "pending");
      expect(p.sessionCount).toBeGreaterThan(0);
      // the proxy's sweeper drops the idle session (no sleeping on a guess)
      await until(() => p.sessionCount === 0, 5000, "the idle session to be swept");
      expect((await store.get("LOA.i", "ccbd8eee1012327e"))?.status).toBe("pending");
      expect(p.sessionCount).toBeGreaterThan(0); // a fresh one took its place
    } finally {
      await p.stop();
    }
  });
});

describe("psdb proxy with the raw driver", () => {
  test("types, NULL, unicode and insertId/rowsAffected decode like PlanetScale", async () => {
    const p = proxy();
    try {
      const conn = connect({ url: p.url });
      const r = await conn.execute(
        "SELECT ? AS s, NULL AS n, 42 AS i, 9007199254740993 AS big, 1.25e0 AS f, CAST(2.50 AS DECIMAL(5,2)) AS d, JSON_OBJECT('k', ?) AS j",
        ["한국어 😀 '\"\\", "v"],
      );
      expect(r.rows[0]).toEqual({ s: "한국어 😀 '\"\\", n: null, i: 42, big: "9007199254740993", f: 1.25, d: "2.50", j: { k: "v" } });
      expect(r.types).toMatchObject({ s: "VARCHAR", n: "NULL", i: "INT32", big: "INT64", f: "FLOAT64", d: "DECIMAL", j: "JSON" });
      await conn.execute("CREATE TEMPORARY TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(5))");
      const ins = await conn.execute("INSERT INTO t (v) VALUES (?), (?)", ["a", "b"]);
      expect(ins.rowsAffected).toBe(2);
      expect(ins.insertId).toBe("1");
      // Same session, same connection: the TEMPORARY table is still there.
      expect((await conn.execute("SELECT COUNT(*) AS c FROM t")).rows[0]).toEqual({ c: "2" });
      const err = await conn.execute("SELECT * FROM no_such_table").catch((x) => x);
      expect(err.name).toBe("DatabaseError");
      expect(err.message).toMatch(/errno 1146/);
    } finally {
      await p.stop();
    }
  });

  test("transaction() is a real MySQL transaction pinned to one connection", async () => {
    const p = proxy();
    try {
      const conn = connect({ url: p.url });
      await conn.execute("CREATE TABLE IF NOT EXISTS tx_probe (id INT PRIMARY KEY) ENGINE=InnoDB");
      await conn.execute("DELETE FROM tx_probe");
      const failed = await conn
        .transaction(async (tx) => {
          await tx.execute("INSERT INTO tx_probe VALUES (1)");
          // Another session must not see the uncommitted row.
          expect((await connect({ url: p.url }).execute("SELECT COUNT(*) AS c FROM tx_probe")).rows[0]).toEqual({ c: "0" });
          expect((await tx.execute("SELECT COUNT(*) AS c FROM tx_probe")).rows[0]).toEqual({ c: "1" });
          throw new Error("boom");
        })
        .catch((x) => x);
      expect(failed.message).toBe("boom");
      expect((await conn.execute("SELECT COUNT(*) AS c FROM tx_probe")).rows[0]).toEqual({ c: "0" });
      await conn.transaction(async (tx) => {
        await tx.execute("INSERT INTO tx_probe VALUES (2)");
      });
      expect((await conn.execute("SELECT id FROM tx_probe")).rows).toEqual([{ id: 2 }]);
      await conn.execute("DROP TABLE tx_probe");
    } finally {
      await p.stop();
    }
  });

  test("a transaction lost to session expiry is reported, and the next call works", async () => {
    const p = proxy({ sessionIdleMs: 100 });
    try {
      const conn = connect({ url: p.url });
      await conn.execute("BEGIN");
      expect(p.sessionCount).toBe(1);
      await until(() => p.sessionCount === 0, 5000, "the idle session (and its transaction) to be swept");
      const err = await conn.execute("SELECT 1").catch((x) => x);
      expect(err.message).toMatch(/rolled back/);
      expect((await conn.execute("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await p.stop();
    }
  });

  test("a dropped session's connection state (character set, variables) never reaches the next session", async () => {
    const p = proxy({ maxSessions: 1 });
    try {
      const a = connect({ url: p.url });
      await a.execute("SET NAMES latin1");
      await a.execute("SET @leak = '남의 값'");
      expect((await a.execute("SELECT @@character_set_client AS cs")).rows).toEqual([{ cs: "latin1" }]);
      const b = connect({ url: p.url }); // the one session slot: a's session is evicted
      const seen = (await b.execute("SELECT @@character_set_client AS cs, @leak AS v")).rows[0] as { cs: string; v: unknown };
      expect(seen.cs).not.toBe("latin1");
      expect(seen.v).toBeNull();
      await b.execute("CREATE TEMPORARY TABLE t_enc (v VARCHAR(20)) CHARACTER SET utf8mb4");
      await b.execute("INSERT INTO t_enc VALUES (?)", ["한국어 😀"]);
      expect((await b.execute("SELECT v, HEX(v) AS h FROM t_enc")).rows).toEqual([{ v: "한국어 😀", h: Buffer.from("한국어 😀").toString("hex").toUpperCase() }]);
    } finally {
      await p.stop();
    }
  });

  test("a statement past the statement deadline fails with DEADLINE_EXCEEDED and stops running on the server", async () => {
    const warnings: string[] = [];
    const p = proxy({ statementTimeoutMs: 300, warn: (m) => warnings.push(m) });
    const marker = `botgate_kill_probe_${Math.random().toString(36).slice(2, 10)}`;
    const running = async () =>
      Number((await db.unsafe(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${marker}%' AND ID <> CONNECTION_ID()`))[0].n);
    try {
      const conn = connect({ url: p.url });
      const err = await conn.execute(`SELECT SLEEP(60) AS ${marker}`).catch((x) => x);
      expect(err.name).toBe("DatabaseError");
      expect(err.message).toMatch(/did not finish within 300 ms/);
      // Killed, not left sleeping for a minute on a connection nobody reads.
      await until(async () => (await running()) === 0, 3000, "the stalled statement to be gone from the server");
      expect((await conn.execute("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]); // a fresh session
      expect(warnings).toEqual([]); // the KILL worked
    } finally {
      await p.stop();
    }
  });

  test("rejects bad credentials with 401 and unknown routes with 404", async () => {
    const p = proxy();
    try {
      const base = new URL(p.url);
      const origin = `${base.protocol}//${base.host}`;
      const noAuth = await fetch(`${origin}/psdb.v1alpha1.Database/Execute`, { method: "POST", body: "{}" });
      expect(noAuth.status).toBe(401);
      const auth = `Basic ${btoa(`${USER}:${PASSWORD}`)}`;
      const nf = await fetch(`${origin}/psdb.v1alpha1.Database/Nope`, { method: "POST", body: "{}", headers: { authorization: auth } });
      expect(nf.status).toBe(404);
      const bad = await fetch(`${origin}/psdb.v1alpha1.Database/Execute`, { method: "POST", body: "{", headers: { authorization: auth } });
      expect(bad.status).toBe(400);
    } finally {
      await p.stop();
    }
  });
});
