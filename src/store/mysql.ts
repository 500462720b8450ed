// MySQL backend over the PlanetScale HTTP driver (fetch-based, runtime-neutral).
// Works against PlanetScale itself or the bundled psdb-proxy in front of plain MySQL/MariaDB.
import { connect, type Connection } from "@planetscale/database";
import { guard } from "./guard.ts";
import { DEFAULT_TRIM_MAX_ROWS, TrimSchedule, countByDevice, deviceKey } from "./retention.ts";
import { DEVICE_COLUMNS, MYSQL_SCHEMA, toDevice, toMysqlDatetime, toPing, type DeviceRow, type PingDbRow } from "./schema.ts";
import {
  DEFAULT_PING_RETENTION,
  DEFAULT_REQUEST_TIMEOUT_MS,
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

export interface MysqlStoreOptions {
  /** `https://user:pass@host` (PlanetScale) or `http://user:pass@host:port` (psdb-proxy). */
  url: string;
  pingRetention?: number;
  /** Rows one trim statement deletes at most (default DEFAULT_TRIM_MAX_ROWS). */
  trimMaxRows?: number;
  /** Deadline of every HTTP request to the endpoint, response body included (default 10 s). */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

type DriverFetch = NonNullable<Parameters<typeof connect>[0]["fetch"]>;

/**
 * The fetch the driver gets: each request (headers and body) must finish within `ms`, so a
 * stalled endpoint cannot hang /readyz, handshakes or shutdown. The body is read here, under
 * the deadline, and handed to the driver as a complete Response.
 */
export function fetchWithDeadline(base: typeof fetch, ms: number): DriverFetch {
  return async (input, init) => {
    const deadline = AbortSignal.timeout(ms);
    try {
      const res = await base(input, { ...init, signal: deadline });
      const body = await res.arrayBuffer();
      return new Response(body.byteLength === 0 ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
    } catch (err) {
      if (deadline.aborted) throw new Error(`no answer from the MySQL endpoint within ${ms} ms (store.requestTimeoutMs)`, { cause: err });
      throw err;
    }
  };
}

/** Connects, creates the tables if missing, and returns the store. */
export async function openMysqlStore(opts: MysqlStoreOptions): Promise<DeviceStore> {
  const retention = v.positiveInt("pingRetention", opts.pingRetention, DEFAULT_PING_RETENTION);
  const timeoutMs = v.positiveInt("requestTimeoutMs", opts.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    // No cause attached: the parser's error quotes the whole URL, password included.
    throw new StoreError("mysql url is not a valid URL (characters like / # ? @ in the password must be percent-encoded)");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new StoreError(`mysql url must be http:// or https:// (PlanetScale HTTP API), got ${url.protocol}`);
  }
  const conn = connect({ url: opts.url, fetch: fetchWithDeadline(opts.fetch ?? fetch, timeoutMs) });
  const store = new MysqlStore(conn, retention, v.positiveInt("trimMaxRows", opts.trimMaxRows, DEFAULT_TRIM_MAX_ROWS));
  await store.init(MYSQL_SCHEMA);
  return store;
}

type Args = (string | number | null)[];

/** Devices trimmed per retention statement pair (keeps each statement a few KiB). */
const TRIM_CHUNK = 50;

class MysqlStore implements DeviceStore {
  readonly kind = "mysql" as const;
  /** Filled while opening (see #checkKeyCollation); the app logs them. */
  readonly warnings: string[] = [];
  #closed = false;
  readonly #trims: TrimSchedule;

  constructor(
    private readonly conn: Connection,
    readonly pingRetention: number,
    private readonly trimMaxRows: number,
  ) {
    this.#trims = new TrimSchedule(pingRetention);
  }

  async #q<T>(sql: string, args: Args = []) {
    if (this.#closed) throw new StoreError("MySQL store is closed");
    return this.conn.execute<T>(sql, args);
  }

  async #getRow(botName: string, deviceId: string): Promise<DeviceRecord | null> {
    const r = await this.#q<DeviceRow>(
      `SELECT ${DEVICE_COLUMNS} FROM kb_bot_devices WHERE bot_name = ? AND device_id = ?`,
      [botName, deviceId],
    );
    return r.rows[0] ? toDevice(r.rows[0]) : null;
  }

  /** Creates the session up front so concurrent first calls share it. */
  init(ddl: readonly string[]): Promise<void> {
    return guard("opening MySQL store", async () => {
      await this.conn.refresh();
      for (const stmt of ddl) await this.#q(stmt);
      await this.#checkKeyCollation();
    });
  }

  /** CREATE TABLE IF NOT EXISTS keeps a table the legacy server made, with its collation: say so if keys ignore case. */
  async #checkKeyCollation(): Promise<void> {
    let rows: Array<{ name: string; collation: string | null }>;
    try {
      rows = (
        await this.#q<{ name: string; collation: string | null }>(
          "SELECT COLUMN_NAME AS name, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kb_bot_devices' AND COLUMN_NAME IN ('bot_name', 'device_id') ORDER BY COLUMN_NAME",
        )
      ).rows;
    } catch (err) {
      // Only a check: an endpoint without this view must not make the store unopenable.
      this.warnings.push(`could not check the collation of kb_bot_devices: ${(err as Error)?.message ?? err}`);
      return;
    }
    const folding = rows.filter((c) => c.collation !== null && !/_(bin|cs)$/i.test(c.collation));
    if (folding.length > 0) {
      this.warnings.push(
        `kb_bot_devices compares ${folding.map((c) => `${c.name} (${c.collation})`).join(" and ")} without regard to case: device ids that differ only in case are one device here. ` +
          "For exact keys: ALTER TABLE kb_bot_devices CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
      );
    }
  }

  upsertOnHandshake(input: HandshakeUpsert, initialStatus: DeviceStatus): Promise<DeviceRecord> {
    return guard("upsertOnHandshake", async () => {
      const h = v.handshake(input);
      const status = v.status(initialStatus);
      const now = toMysqlDatetime(new Date());
      // As the legacy server: one INSERT ... ON DUPLICATE KEY UPDATE; status is not in the UPDATE list.
      await this.#q(
        `INSERT INTO kb_bot_devices (bot_name, device_id, ip_address, status, client_type, client_version, client_info, descryption, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
         ON DUPLICATE KEY UPDATE ip_address = VALUES(ip_address), client_type = VALUES(client_type),
           client_version = VALUES(client_version), client_info = VALUES(client_info), updated_at = VALUES(updated_at)`,
        [h.botName, h.deviceId, h.ipAddress, status, h.clientType, h.clientVersion, h.clientInfo, now, now],
      );
      const row = await this.#getRow(h.botName, h.deviceId);
      if (!row) throw new StoreError("upsertOnHandshake: row vanished after upsert (deleted concurrently)");
      return row;
    });
  }

  get(botName: string, deviceId: string): Promise<DeviceRecord | null> {
    return guard("get", () => this.#getRow(v.key("botName", botName), v.key("deviceId", deviceId)));
  }

  list(filter: ListFilter): Promise<Page<DeviceRecord>> {
    return guard("list", async () => {
      const f = v.listFilter(filter);
      const where: string[] = [];
      const args: Args = [];
      if (f.botName !== undefined) (where.push("bot_name = ?"), args.push(f.botName));
      if (f.status !== undefined) (where.push("status = ?"), args.push(f.status));
      const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
      const total = await this.#q<{ n: string }>(`SELECT COUNT(*) AS n FROM kb_bot_devices ${clause}`, args);
      const rows = await this.#q<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM kb_bot_devices ${clause} ORDER BY id LIMIT ? OFFSET ?`,
        [...args, f.limit, f.offset],
      );
      return { items: rows.rows.map(toDevice), total: Number(total.rows[0]?.n ?? 0) };
    });
  }

  setStatus(botName: string, deviceId: string, status: DeviceStatus, description?: string | null) {
    return guard("setStatus", async () => {
      const b = v.key("botName", botName);
      const d = v.key("deviceId", deviceId);
      const s = v.status(status);
      const now = toMysqlDatetime(new Date());
      if (description === undefined) {
        await this.#q("UPDATE kb_bot_devices SET status = ?, updated_at = ? WHERE bot_name = ? AND device_id = ?", [s, now, b, d]);
      } else {
        await this.#q(
          "UPDATE kb_bot_devices SET status = ?, descryption = ?, updated_at = ? WHERE bot_name = ? AND device_id = ?",
          [s, v.description(description), now, b, d],
        );
      }
      return this.#getRow(b, d);
    });
  }

  delete(botName: string, deviceId: string): Promise<boolean> {
    return guard("delete", async () => {
      const b = v.key("botName", botName);
      const d = v.key("deviceId", deviceId);
      // No driver transaction: each one would pin a fresh server session. Device first, then its history.
      this.#trims.forget(deviceKey(b, d));
      const r = await this.#q("DELETE FROM kb_bot_devices WHERE bot_name = ? AND device_id = ?", [b, d]);
      await this.#q("DELETE FROM kb_ping_monitor WHERE bot_name = ? AND device_id = ?", [b, d]);
      return r.rowsAffected > 0;
    });
  }

  recordPing(p: PingRecord): Promise<void> {
    return this.#record("recordPing", [p]);
  }

  recordPings(batch: PingRecord[]): Promise<void> {
    return this.#record("recordPings", batch);
  }

  #record(what: string, batch: PingRecord[]): Promise<void> {
    return guard(what, async () => {
      if (!Array.isArray(batch)) throw v.invalid("recordPings needs an array of pings");
      const rows = batch.map(v.ping); // all validated before any SQL
      if (this.#closed) throw new StoreError("MySQL store is closed");
      if (rows.length === 0) return;
      const devices = countByDevice(rows);
      const due = [...devices].filter(([k, e]) => this.#trims.due(k, e.n)).map(([, e]) => e.row);
      try {
        // One statement, so the batch is all-or-nothing without a driver transaction; ids follow array order.
        const args: Args = [];
        for (const r of rows) args.push(r.botName, r.deviceId, r.rttMs, r.monitoringJson, toMysqlDatetime(r.at));
        await this.#q(
          `INSERT INTO kb_ping_monitor (bot_name, device_id, rtt_ms, monitoring, created_at) VALUES ${rows.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
          args,
        );
        for (let i = 0; i < due.length; i += TRIM_CHUNK) await this.#trim(due.slice(i, i + TRIM_CHUNK));
      } catch (err) {
        for (const k of devices.keys()) this.#trims.forget(k);
        throw err;
      }
    });
  }

  /**
   * Retention for several devices in two round trips: find each one's (N+1)-th newest id,
   * then drop it and everything older, at most trimMaxRows rows (which ones does not
   * matter: all are past retention); the devices are then trimmed again on their next
   * ping until caught up. Idempotent, so no transaction.
   */
  async #trim(devices: { botName: string; deviceId: string }[]): Promise<void> {
    const findArgs: Args = [];
    const find = devices.map((d) => {
      findArgs.push(d.botName, d.deviceId, this.pingRetention);
      return "(SELECT bot_name, device_id, id FROM kb_ping_monitor WHERE bot_name = ? AND device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)";
    });
    const cuts = await this.#q<{ bot_name: string; device_id: string; id: string }>(find.join(" UNION ALL "), findArgs);
    if (cuts.rows.length === 0) return;
    const delArgs: Args = [];
    const where = cuts.rows.map((c) => {
      delArgs.push(c.bot_name, c.device_id, Number(c.id));
      return "(bot_name = ? AND device_id = ? AND id <= ?)";
    });
    delArgs.push(this.trimMaxRows);
    const del = await this.#q(`DELETE FROM kb_ping_monitor WHERE ${where.join(" OR ")} LIMIT ?`, delArgs);
    if (del.rowsAffected >= this.trimMaxRows) for (const d of devices) this.#trims.forget(deviceKey(d.botName, d.deviceId));
  }

  listPings(botName: string, deviceId: string, limit: number): Promise<PingRecord[]> {
    return guard("listPings", async () => {
      const r = await this.#q<PingDbRow>(
        "SELECT bot_name, device_id, rtt_ms, monitoring, created_at FROM kb_ping_monitor WHERE bot_name = ? AND device_id = ? ORDER BY id DESC LIMIT ?",
        [v.key("botName", botName), v.key("deviceId", deviceId), v.limit(limit)],
      );
      return r.rows.map(toPing);
    });
  }

  healthCheck(): Promise<void> {
    return guard("healthCheck", async () => {
      await this.#q("SELECT 1 AS ok");
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
