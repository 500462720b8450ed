// SQLite backend on node:sqlite DatabaseSync (works in Bun and Deno; no Bun.* here).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { guard } from "./guard.ts";
import { DEFAULT_TRIM_MAX_ROWS, TrimSchedule, countByDevice, deviceKey } from "./retention.ts";
import { DEVICE_COLUMNS, SQLITE_SCHEMA, toDevice, toPing, type DeviceRow, type PingDbRow } from "./schema.ts";
import {
  DEFAULT_PING_RETENTION,
  StoreError,
  type DeviceRecord,
  type DeviceStatus,
  type DeviceStore,
  type HandshakeUpsert,
  type ListFilter,
  type Page,
  type PingRecord,
} from "./types.ts";
import * as v from "./validate.ts";

export interface SqliteStoreOptions {
  path: string;
  pingRetention?: number;
  busyTimeoutMs?: number;
  /** Rows one trim deletes at most (default DEFAULT_TRIM_MAX_ROWS). */
  trimMaxRows?: number;
}

type Db = InstanceType<typeof DatabaseSync>;
type Stmt = ReturnType<Db["prepare"]>;

/** Every statement with a fixed text, prepared once at open (preparing costs more than running). */
function prepareAll(db: Db) {
  return {
    upsert: db.prepare(
      `INSERT INTO kb_bot_devices (bot_name, device_id, ip_address, status, client_type, client_version, client_info, descryption, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
       ON CONFLICT (bot_name, device_id) DO UPDATE SET
         ip_address = excluded.ip_address, client_type = excluded.client_type,
         client_version = excluded.client_version, client_info = excluded.client_info,
         updated_at = excluded.updated_at
       RETURNING ${DEVICE_COLUMNS}`,
    ),
    get: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM kb_bot_devices WHERE bot_name = ? AND device_id = ?`),
    setStatus: db.prepare("UPDATE kb_bot_devices SET status = ?, updated_at = ? WHERE bot_name = ? AND device_id = ?"),
    setStatusDescription: db.prepare(
      "UPDATE kb_bot_devices SET status = ?, descryption = ?, updated_at = ? WHERE bot_name = ? AND device_id = ?",
    ),
    deleteDevice: db.prepare("DELETE FROM kb_bot_devices WHERE bot_name = ? AND device_id = ?"),
    deletePings: db.prepare("DELETE FROM kb_ping_monitor WHERE bot_name = ? AND device_id = ?"),
    insertPing: db.prepare("INSERT INTO kb_ping_monitor (bot_name, device_id, rtt_ms, monitoring, created_at) VALUES (?, ?, ?, ?, ?)"),
    // Retention: drop everything from the (N+1)-th newest row of this device down, oldest
    // first, at most LIMIT rows per run (SQLite has no DELETE ... LIMIT by default).
    trimPings: db.prepare(
      `DELETE FROM kb_ping_monitor WHERE id IN (
         SELECT id FROM kb_ping_monitor WHERE bot_name = ? AND device_id = ? AND id <= (
           SELECT id FROM kb_ping_monitor WHERE bot_name = ? AND device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
         ORDER BY id LIMIT ?)`,
    ),
    listPings: db.prepare(
      "SELECT bot_name, device_id, rtt_ms, monitoring, created_at FROM kb_ping_monitor WHERE bot_name = ? AND device_id = ? ORDER BY id DESC LIMIT ?",
    ),
    health: db.prepare("SELECT 1"),
  } satisfies Record<string, Stmt>;
}

export function openSqliteStore(opts: SqliteStoreOptions): Promise<DeviceStore> {
  return guard("opening SQLite store", () => {
    const retention = v.positiveInt("pingRetention", opts.pingRetention, DEFAULT_PING_RETENTION);
    const memory = opts.path === ":memory:";
    if (!memory) mkdirSync(dirname(opts.path), { recursive: true });
    const db = new DatabaseSync(opts.path);
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
      if (!memory) db.exec("PRAGMA journal_mode = WAL");
      // After a checkpoint resets the WAL, cut the file back to this size (a WAL that grew
      // during a burst, or under the RETURNING bug below, would otherwise keep its size on disk).
      if (!memory) db.exec(`PRAGMA journal_size_limit = ${16 * 2 ** 20}`);
      db.exec("PRAGMA synchronous = NORMAL");
      for (const ddl of SQLITE_SCHEMA) db.exec(ddl);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(db, retention, v.positiveInt("trimMaxRows", opts.trimMaxRows, DEFAULT_TRIM_MAX_ROWS));
  });
}

class SqliteStore implements DeviceStore {
  readonly kind = "sqlite" as const;
  #db: Db | null;
  readonly #s: ReturnType<typeof prepareAll>;
  readonly #trims: TrimSchedule;

  constructor(
    db: Db,
    readonly pingRetention: number,
    private readonly trimMaxRows: number,
  ) {
    this.#db = db;
    this.#s = prepareAll(db);
    this.#trims = new TrimSchedule(pingRetention);
  }

  #open(): Db {
    if (!this.#db) throw new StoreError("SQLite store is closed");
    return this.#db;
  }

  /** The cached statements, once the store is known to be open. */
  #stmts(): ReturnType<typeof prepareAll> {
    this.#open();
    return this.#s;
  }

  /** Runs fn inside one SQLite transaction (DatabaseSync is synchronous, so nothing interleaves). */
  #tx<T>(fn: (db: Db) => T): T {
    const db = this.#open();
    db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn(db);
      db.exec("COMMIT");
      return out;
    } catch (err) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // keep the original error
      }
      throw err;
    }
  }

  #getRow(botName: string, deviceId: string): DeviceRecord | null {
    const row = this.#stmts().get.get(botName, deviceId) as DeviceRow | undefined;
    return row ? toDevice(row) : null;
  }

  upsertOnHandshake(input: HandshakeUpsert, initialStatus: DeviceStatus): Promise<DeviceRecord> {
    return guard("upsertOnHandshake", () => {
      const h = v.handshake(input);
      const status = v.status(initialStatus);
      const now = new Date().toISOString();
      // all(), not get(): get() stops at the RETURNING row and resets the statement before it
      // reaches SQLITE_DONE, and SQLite runs the WAL auto-checkpoint only from a statement that
      // finished. A gateway whose only writes are handshakes then never checkpoints: the WAL file
      // grew without bound (786 MB after 100,000 handshakes) and so did its -shm index in RSS.
      const [row] = this.#stmts().upsert.all(h.botName, h.deviceId, h.ipAddress, status, h.clientType, h.clientVersion, h.clientInfo, now, now);
      return toDevice(row as unknown as DeviceRow);
    });
  }

  get(botName: string, deviceId: string): Promise<DeviceRecord | null> {
    return guard("get", () => this.#getRow(v.key("botName", botName), v.key("deviceId", deviceId)));
  }

  list(filter: ListFilter): Promise<Page<DeviceRecord>> {
    return guard("list", () => {
      const f = v.listFilter(filter);
      const where: string[] = [];
      const args: string[] = [];
      if (f.botName !== undefined) (where.push("bot_name = ?"), args.push(f.botName));
      if (f.status !== undefined) (where.push("status = ?"), args.push(f.status));
      const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
      const db = this.#open();
      const total = db.prepare(`SELECT COUNT(*) AS n FROM kb_bot_devices ${clause}`).get(...args) as { n: number };
      const rows = db
        .prepare(`SELECT ${DEVICE_COLUMNS} FROM kb_bot_devices ${clause} ORDER BY id LIMIT ? OFFSET ?`)
        .all(...args, f.limit, f.offset) as unknown as DeviceRow[];
      return { items: rows.map(toDevice), total: Number(total.n) };
    });
  }

  setStatus(botName: string, deviceId: string, status: DeviceStatus, description?: string | null) {
    return guard("setStatus", () => {
      const b = v.key("botName", botName);
      const d = v.key("deviceId", deviceId);
      const s = v.status(status);
      const now = new Date().toISOString();
      const st = this.#stmts();
      if (description === undefined) st.setStatus.run(s, now, b, d);
      else st.setStatusDescription.run(s, v.description(description), now, b, d);
      return this.#getRow(b, d);
    });
  }

  delete(botName: string, deviceId: string): Promise<boolean> {
    return guard("delete", () => {
      const b = v.key("botName", botName);
      const d = v.key("deviceId", deviceId);
      const st = this.#stmts();
      this.#trims.forget(deviceKey(b, d));
      return this.#tx(() => {
        st.deletePings.run(b, d);
        return Number(st.deleteDevice.run(b, d).changes) > 0;
      });
    });
  }

  recordPing(p: PingRecord): Promise<void> {
    return this.#record("recordPing", [p]);
  }

  recordPings(batch: PingRecord[]): Promise<void> {
    return this.#record("recordPings", batch);
  }

  #record(what: string, batch: PingRecord[]): Promise<void> {
    return guard(what, () => {
      if (!Array.isArray(batch)) throw v.invalid("recordPings needs an array of pings");
      const rows = batch.map(v.ping); // all validated before any SQL
      const st = this.#stmts();
      if (rows.length === 0) return;
      const devices = countByDevice(rows);
      const due = [...devices].filter(([k, e]) => this.#trims.due(k, e.n));
      try {
        const behind = this.#tx(() => {
          for (const r of rows) st.insertPing.run(r.botName, r.deviceId, r.rttMs, r.monitoringJson, r.at.toISOString());
          const left: string[] = [];
          for (const [k, { row: r }] of due) {
            const cut = st.trimPings.run(r.botName, r.deviceId, r.botName, r.deviceId, this.pingRetention, this.trimMaxRows);
            if (Number(cut.changes) >= this.trimMaxRows) left.push(k); // maybe more: trimmed again on its next ping
          }
          return left;
        });
        for (const k of behind) this.#trims.forget(k);
      } catch (err) {
        for (const k of devices.keys()) this.#trims.forget(k);
        throw err;
      }
    });
  }

  listPings(botName: string, deviceId: string, limit: number): Promise<PingRecord[]> {
    return guard("listPings", () => {
      const rows = this.#stmts().listPings.all(v.key("botName", botName), v.key("deviceId", deviceId), v.limit(limit)) as unknown as PingDbRow[];
      return rows.map(toPing);
    });
  }

  healthCheck(): Promise<void> {
    return guard("healthCheck", () => {
      this.#stmts().health.get();
    });
  }

  close(): Promise<void> {
    return guard("close", () => {
      const db = this.#db;
      this.#db = null;
      db?.close();
    });
  }
}
