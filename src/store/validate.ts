// Input checks shared by every backend: bad input throws StoreError and never reaches SQL.
import {
  DEVICE_STATUSES,
  StoreError,
  type DeviceStatus,
  type HandshakeUpsert,
  type ListFilter,
  type PingRecord,
} from "./types.ts";

/** Column sizes in Unicode code points (MySQL VARCHAR counts characters). */
export const LIMITS = {
  botName: 100,
  deviceId: 128,
  ipAddress: 45,
  clientType: 50,
  clientVersion: 50,
  clientInfo: 1000,
  description: 1000,
  monitoringJson: 8000,
} as const;

export const MAX_PAGE = 1000;

/** A refusal of the caller's input (BAD_REQUEST in the error vocabulary). */
export function invalid(message: string, cause?: unknown): StoreError {
  return new StoreError(message, { cause, invalidInput: true });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Length in Unicode code points (a surrogate pair counts once), as MySQL counts VARCHAR characters. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function text(field: keyof typeof LIMITS, value: unknown, nullable: boolean): string | null {
  if (value === null && nullable) return null;
  if (typeof value !== "string") throw invalid(`${field} must be a string${nullable ? " or null" : ""}`);
  if (LONE_SURROGATE.test(value)) throw invalid(`${field} contains a lone surrogate (not valid UTF-8)`);
  if (value.includes("\0")) throw invalid(`${field} contains a NUL character`);
  // UTF-16 length >= code points, so only a long string needs counting.
  if (value.length > LIMITS[field] && codePoints(value) > LIMITS[field]) throw invalid(`${field} is longer than ${LIMITS[field]} characters`);
  return value;
}

/** Key parts: non-empty, no surrounding whitespace (MySQL PAD SPACE collations would fold "a" and "a "). */
export function key(field: "botName" | "deviceId", value: unknown): string {
  const s = text(field, value, false) as string;
  if (s.length === 0) throw invalid(`${field} must not be empty`);
  if (s.trim() !== s) throw invalid(`${field} must not start or end with whitespace`);
  // URL parsers resolve these path segments away: the admin API could never address such a device.
  if (s === "." || s === "..") throw invalid(`${field} must not be "." or ".."`);
  return s;
}

export function status(value: unknown): DeviceStatus {
  if (!DEVICE_STATUSES.includes(value as DeviceStatus)) {
    throw invalid(`unknown device status ${JSON.stringify(value)}; expected one of ${DEVICE_STATUSES.join(", ")}`);
  }
  return value as DeviceStatus;
}

export function handshake(input: HandshakeUpsert): HandshakeUpsert {
  if (typeof input !== "object" || input === null) throw invalid("handshake input must be an object");
  return {
    botName: key("botName", input.botName),
    deviceId: key("deviceId", input.deviceId),
    ipAddress: text("ipAddress", input.ipAddress ?? null, true),
    clientType: text("clientType", input.clientType, false) as string,
    clientVersion: text("clientVersion", input.clientVersion, false) as string,
    clientInfo: text("clientInfo", input.clientInfo ?? null, true),
  };
}

export function description(value: unknown): string | null {
  return text("description", value, true);
}

function count(field: string, value: unknown, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) {
    throw invalid(`${field} must be an integer from 0 to ${max}`);
  }
  return value as number;
}

export function limit(value: unknown): number {
  return count("limit", value, MAX_PAGE);
}

export function listFilter(f: ListFilter): ListFilter {
  if (typeof f !== "object" || f === null) throw invalid("list filter must be an object");
  return {
    botName: f.botName === undefined ? undefined : key("botName", f.botName),
    status: f.status === undefined ? undefined : status(f.status),
    limit: limit(f.limit),
    offset: count("offset", f.offset, Number.MAX_SAFE_INTEGER),
  };
}

export interface PingRow {
  botName: string;
  deviceId: string;
  rttMs: number | null;
  monitoringJson: string | null;
  at: Date;
  /** The caller's `${botName}\0${deviceId}` string, kept only if it is exactly that. */
  key?: string;
}

/** True if `k` is `${botName}\0${deviceId}` (checked without building that string). */
function isDeviceKey(k: unknown, botName: string, deviceId: string): k is string {
  return typeof k === "string" && k.length === botName.length + 1 + deviceId.length && k.charCodeAt(botName.length) === 0 && k.startsWith(botName) && k.endsWith(deviceId);
}

export function ping(p: PingRecord): PingRow {
  if (typeof p !== "object" || p === null) throw invalid("ping must be an object");
  if (p.rttMs !== null && (typeof p.rttMs !== "number" || !Number.isFinite(p.rttMs) || p.rttMs < 0)) {
    throw invalid("rttMs must be a finite number >= 0 or null");
  }
  let monitoringJson: string | null = null;
  if (p.monitoring !== null && p.monitoring !== undefined) {
    if (typeof p.monitoring !== "object" || Array.isArray(p.monitoring)) {
      throw invalid("monitoring must be an object or null");
    }
    try {
      monitoringJson = JSON.stringify(p.monitoring);
    } catch (cause) {
      throw invalid("monitoring is not JSON-serialisable", cause);
    }
    text("monitoringJson", monitoringJson, false);
  }
  const botName = key("botName", p.botName);
  const deviceId = key("deviceId", p.deviceId);
  return {
    botName,
    deviceId,
    rttMs: p.rttMs,
    monitoringJson,
    at: instant("at", p.at),
    key: isDeviceKey(p.key, botName, deviceId) ? p.key : undefined,
  };
}

export function instant(field: string, value: unknown): Date {
  const d = typeof value === "string" ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw invalid(`${field} must be an ISO-8601 date string`);
  const year = d.getUTCFullYear();
  if (year < 1000 || year > 9999) throw invalid(`${field} must be between years 1000 and 9999`);
  return d;
}

export function positiveInt(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw invalid(`${field} must be an integer >= 1`);
  return value as number;
}
