import { BotgateError } from "../errors.ts";
import type { AnalyzeData, AuthBlock, EventFrame, HandshakeFrame } from "./frames.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes of one line -> a JSON object; invalid UTF-8 or JSON is a clear error. */
export function parseLine(line: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch (cause) {
    throw new BotgateError("INVALID_UTF8", "line is not valid UTF-8", { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new BotgateError("INVALID_JSON", "line is not valid JSON", { cause });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new BotgateError("INVALID_JSON", "line is not a JSON object");
  }
  return value as Record<string, unknown>;
}

// Limits match the kb_bot_devices columns (src/store/validate.ts).
const MAX_ID = 128;

function reqString(o: Record<string, unknown>, key: string, code: "HANDSHAKE_INVALID" | "BAD_REQUEST", max = 1024): string {
  const v = o[key];
  if (typeof v !== "string" || v.length === 0) throw new BotgateError(code, `"${key}" must be a non-empty string`);
  if (v.length > max) throw new BotgateError(code, `"${key}" is longer than ${max} characters`);
  return v;
}

function optString(o: Record<string, unknown>, key: string, max = 1024): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v !== "string") throw new BotgateError("BAD_REQUEST", `"${key}" must be a string`);
  return v.length > max ? v.slice(0, max) : v;
}

/** The first line: no `event` wrapper. v3.1.x phones send only botName, version, deviceID. */
export function decodeHandshake(o: Record<string, unknown>): HandshakeFrame {
  if ("event" in o) throw new BotgateError("HANDSHAKE_INVALID", "expected the handshake line first, got an event");
  const clientType = o.clientType === undefined ? "MessengerBotR" : reqString(o, "clientType", "HANDSHAKE_INVALID", 50);
  return {
    kind: "handshake",
    clientType,
    botName: reqString(o, "botName", "HANDSHAKE_INVALID", 64),
    version: reqString(o, "version", "HANDSHAKE_INVALID", 32),
    deviceId: reqString(o, "deviceID", "HANDSHAKE_INVALID", MAX_ID),
    deviceInfo: typeof o.deviceInfo === "string" ? o.deviceInfo.slice(0, 255) : null,
  };
}

function dataOf(o: Record<string, unknown>): Record<string, unknown> {
  const d = o.data;
  if (d === null || typeof d !== "object" || Array.isArray(d)) throw new BotgateError("BAD_REQUEST", `"data" must be an object`);
  return d as Record<string, unknown>;
}

export function decodeEvent(o: Record<string, unknown>): EventFrame {
  const event = o.event;
  if (typeof event !== "string") throw new BotgateError("BAD_REQUEST", `"event" must be a string`);
  if (event === "analyze") {
    const d = dataOf(o);
    const text = d.text;
    if (typeof text !== "string") throw new BotgateError("BAD_REQUEST", `"text" must be a string`);
    const data: AnalyzeData = {
      bot: "", // set by the gateway (the session's bot, not the phone's claim)
      room: reqString(d, "room", "BAD_REQUEST", 1024),
      text,
      sender: typeof d.sender === "string" ? d.sender : "",
      isGroupChat: d.isGroupChat === true,
      channelId: optString(d, "channelId", 32),
      logId: optString(d, "logId", 32),
      userHash: optString(d, "userHash", 128),
      isMention: d.isMention === true,
      timestamp: optString(d, "timestamp", 64),
      packageName: optString(d, "packageName", 128),
      threadId: optString(d, "threadId", 64),
      receivedAt: 0, // set by the gateway
    };
    return { kind: "analyze", data, auth: d.auth };
  }
  if (event === "ping") {
    const d = dataOf(o);
    const ts = d.server_timestamp;
    const mon = d.monitoring;
    return {
      kind: "ping",
      serverTimestamp: typeof ts === "number" && Number.isFinite(ts) ? ts : null,
      monitoring: mon !== null && typeof mon === "object" && !Array.isArray(mon) ? (mon as Record<string, unknown>) : null,
      auth: d.auth,
    };
  }
  return { kind: "unknown", event: event.slice(0, 64) };
}

/** Shape-check an `auth` block; the signature itself is checked by AuthVerifier.
 *  (Field checks written out: no closure or helper object per call; same order and messages.) */
export function decodeAuth(a: unknown): AuthBlock {
  if (a === undefined || a === null) throw new BotgateError("AUTH_MISSING", "event has no auth block");
  if (typeof a !== "object" || Array.isArray(a)) throw new BotgateError("AUTH_INVALID", "auth must be an object");
  const o = a as Record<string, unknown>;
  const ts = o.timestamp;
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) {
    throw new BotgateError("AUTH_INVALID", "auth.timestamp must be integer milliseconds");
  }
  const deviceUUID = o.deviceUUID;
  if (typeof deviceUUID !== "string" || deviceUUID.length > 256) throw new BotgateError("AUTH_INVALID", "auth.deviceUUID must be a string");
  const clientType = o.clientType;
  if (typeof clientType !== "string" || clientType.length > 256) throw new BotgateError("AUTH_INVALID", "auth.clientType must be a string");
  const botName = o.botName;
  if (typeof botName !== "string" || botName.length > 256) throw new BotgateError("AUTH_INVALID", "auth.botName must be a string");
  const deviceID = o.deviceID;
  const macAddress = o.macAddress;
  if (typeof macAddress !== "string" || macAddress.length > 256) throw new BotgateError("AUTH_INVALID", "auth.macAddress must be a string");
  const ipAddress = o.ipAddress;
  if (typeof ipAddress !== "string" || ipAddress.length > 256) throw new BotgateError("AUTH_INVALID", "auth.ipAddress must be a string");
  const signature = o.signature;
  if (typeof signature !== "string" || signature.length > 256) throw new BotgateError("AUTH_INVALID", "auth.signature must be a string");
  return {
    clientType,
    botName,
    deviceUUID,
    deviceID: typeof deviceID === "string" ? deviceID : deviceUUID,
    macAddress,
    ipAddress,
    timestamp: ts,
    signature,
  };
}
