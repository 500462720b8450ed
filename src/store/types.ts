// The device store contract. Other modules code against these names; keep them stable.
// Legacy facts (docs/stores.md, "Schema"): table kb_bot_devices,
// UNIQUE (bot_name, device_id), status in pending/approved/denied/revoked/blocked.

export type DeviceStatus = "pending" | "approved" | "denied" | "revoked" | "blocked";

export const DEVICE_STATUSES: readonly DeviceStatus[] = Object.freeze([
  "pending",
  "approved",
  "denied",
  "revoked",
  "blocked",
]);

export interface DeviceRecord {
  id: number;
  botName: string;
  deviceId: string;
  ipAddress: string | null;
  status: DeviceStatus;
  clientType: string;
  clientVersion: string;
  clientInfo: string | null;
  /** Stored in the legacy column `descryption` (sic). */
  description: string | null;
  /** ISO-8601 UTC, millisecond precision. */
  createdAt: string;
  updatedAt: string;
}

export interface HandshakeUpsert {
  botName: string;
  deviceId: string;
  ipAddress: string | null;
  clientType: string;
  clientVersion: string;
  clientInfo: string | null;
}

export interface PingRecord {
  botName: string;
  deviceId: string;
  rttMs: number | null;
  monitoring: Record<string, unknown> | null;
  /** ISO-8601 UTC. */
  at: string;
  /** `${botName}\0${deviceId}` when the caller already has it (the session's key): the store's
   *  per-device bookkeeping then shares that string instead of keeping its own copy. */
  key?: string;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface ListFilter {
  botName?: string;
  status?: DeviceStatus;
  limit: number;
  offset: number;
}

export interface DeviceStore {
  readonly kind: "sqlite" | "mysql";
  /** Found while opening, worth an operator's attention (logged at start), e.g. a legacy table's key collation. */
  readonly warnings?: readonly string[];
  /** Insert as `initialStatus` if new; if it exists update ip/client fields + updated_at, KEEP its status. Returns the row. */
  upsertOnHandshake(input: HandshakeUpsert, initialStatus: DeviceStatus): Promise<DeviceRecord>;
  get(botName: string, deviceId: string): Promise<DeviceRecord | null>;
  list(filter: ListFilter): Promise<Page<DeviceRecord>>;
  /** `description` undefined keeps the stored one; null clears it. */
  setStatus(
    botName: string,
    deviceId: string,
    status: DeviceStatus,
    description?: string | null,
  ): Promise<DeviceRecord | null>;
  /** Deletes the device and its ping history. False when it did not exist. */
  delete(botName: string, deviceId: string): Promise<boolean>;
  /**
   * Table kb_ping_monitor; the same as `recordPings([p])`.
   * Retention (`pingRetention` N, default 1000): see `recordPings`.
   */
  recordPing(p: PingRecord): Promise<void>;
  /**
   * Stores a batch of pings (any mix of devices) in ONE transaction (SQLite) / ONE multi-row
   * INSERT (MySQL), in array order. Every item is validated first: one invalid item rejects the
   * whole batch with StoreError and nothing is written. An empty batch does nothing.
   *
   * Retention is amortized: a device is trimmed back to exactly its N newest rows on the first
   * ping this store instance writes for it and then at least once every `trimEvery(N)` =
   * ceil(N/10) of its pings (exact for N <= 10). So a device holds at most N + ceil(N/10) - 1
   * rows per writing store, and `listPings(limit <= N)` always returns the newest rows.
   */
  recordPings(batch: PingRecord[]): Promise<void>;
  /** Newest first (insertion order). */
  listPings(botName: string, deviceId: string, limit: number): Promise<PingRecord[]>;
  /** Throws StoreError when the database is unreachable. */
  healthCheck(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The one error the store throws: driver failures (cause kept), invalid input, closed store.
 * The gateway fails CLOSED on it.
 */
export class StoreError extends Error {
  override name = "StoreError";
  /** The caller's input was refused (maps to BAD_REQUEST), as opposed to the store failing (STORE_UNAVAILABLE). */
  readonly invalidInput: boolean;
  constructor(message: string, options?: { cause?: unknown; invalidInput?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.invalidInput = options?.invalidInput ?? false;
  }
}

export const DEFAULT_PING_RETENTION = 1000;

/** Deadline of one HTTP request of the MySQL store (`requestTimeoutMs`), response body included. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** How many pings of one device may be written between two retention trims of it: ceil(N/10). */
export function trimEvery(pingRetention: number): number {
  return Math.max(1, Math.ceil(pingRetention / 10));
}
