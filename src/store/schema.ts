// Table definitions for both backends and the row <-> record mapping they share.
// kb_bot_devices keeps exactly the legacy columns (docs/stores.md, "Schema"), `descryption` sic.
import { DEVICE_STATUSES, StoreError, type DeviceRecord, type DeviceStatus, type PingRecord } from "./types.ts";
import { LIMITS } from "./validate.ts";

export const DEVICE_COLUMNS =
  "id, bot_name, device_id, ip_address, status, client_type, client_version, client_info, descryption, created_at, updated_at";

const statusList = DEVICE_STATUSES.map((s) => `'${s}'`).join(", ");

export const SQLITE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS kb_bot_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_name TEXT NOT NULL,
    device_id TEXT NOT NULL,
    ip_address TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (${statusList})),
    client_type TEXT NOT NULL,
    client_version TEXT NOT NULL,
    client_info TEXT,
    descryption TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (bot_name, device_id)
  )`,
  `CREATE INDEX IF NOT EXISTS kb_bot_devices_status ON kb_bot_devices (status)`,
  `CREATE TABLE IF NOT EXISTS kb_ping_monitor (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_name TEXT NOT NULL,
    device_id TEXT NOT NULL,
    rtt_ms REAL,
    monitoring TEXT,
    created_at TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS kb_ping_monitor_device ON kb_ping_monitor (bot_name, device_id, id)`,
];

// utf8mb4 for 4-byte UTF-8 (emoji); a binary collation so keys compare exactly as in SQLite.
const MYSQL_TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

export const MYSQL_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS kb_bot_devices (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    bot_name VARCHAR(${LIMITS.botName}) NOT NULL,
    device_id VARCHAR(${LIMITS.deviceId}) NOT NULL,
    ip_address VARCHAR(${LIMITS.ipAddress}) NULL,
    status ENUM(${statusList}) NOT NULL DEFAULT 'pending',
    client_type VARCHAR(${LIMITS.clientType}) NOT NULL,
    client_version VARCHAR(${LIMITS.clientVersion}) NOT NULL,
    client_info VARCHAR(${LIMITS.clientInfo}) NULL,
    descryption VARCHAR(${LIMITS.description}) NULL,
    created_at DATETIME(3) NOT NULL,
    updated_at DATETIME(3) NOT NULL,
    UNIQUE KEY uq_bot_device (bot_name, device_id),
    KEY idx_status (status)
  ) ${MYSQL_TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS kb_ping_monitor (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    bot_name VARCHAR(${LIMITS.botName}) NOT NULL,
    device_id VARCHAR(${LIMITS.deviceId}) NOT NULL,
    rtt_ms DOUBLE NULL,
    monitoring TEXT NULL,
    created_at DATETIME(3) NOT NULL,
    KEY idx_device (bot_name, device_id, id)
  ) ${MYSQL_TABLE_OPTIONS}`,
];

/** A row as both backends return it (MySQL BIGINT arrives as a string). */
export interface DeviceRow {
  id: number | string;
  bot_name: string;
  device_id: string;
  ip_address: string | null;
  status: string;
  client_type: string;
  client_version: string;
  client_info: string | null;
  descryption: string | null;
  created_at: string;
  updated_at: string;
}

export interface PingDbRow {
  bot_name: string;
  device_id: string;
  rtt_ms: number | string | null;
  monitoring: string | null;
  created_at: string;
}

/** `2025-01-20T15:30:45.123Z` <- `2025-01-20 15:30:45.123` (MySQL DATETIME(3), stored as UTC). */
export function toIso(value: string): string {
  return value.includes("T") ? value : `${value.replace(" ", "T")}Z`;
}

/** Date -> `2025-01-20 15:30:45.123` for a MySQL DATETIME(3) column holding UTC. */
export function toMysqlDatetime(d: Date): string {
  return d.toISOString().slice(0, 23).replace("T", " ");
}

export function toDevice(row: DeviceRow): DeviceRecord {
  if (!DEVICE_STATUSES.includes(row.status as DeviceStatus)) {
    throw new StoreError(`stored device has unknown status ${JSON.stringify(row.status)}`);
  }
  return {
    id: Number(row.id),
    botName: row.bot_name,
    deviceId: row.device_id,
    ipAddress: row.ip_address,
    status: row.status as DeviceStatus,
    clientType: row.client_type,
    clientVersion: row.client_version,
    clientInfo: row.client_info,
    description: row.descryption,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

export function toPing(row: PingDbRow): PingRecord {
  let monitoring: Record<string, unknown> | null = null;
  if (row.monitoring !== null) {
    try {
      monitoring = JSON.parse(row.monitoring);
    } catch (cause) {
      throw new StoreError("stored ping has invalid monitoring JSON", { cause });
    }
  }
  return {
    botName: row.bot_name,
    deviceId: row.device_id,
    rttMs: row.rtt_ms === null ? null : Number(row.rtt_ms),
    monitoring,
    at: toIso(row.created_at),
  };
}
