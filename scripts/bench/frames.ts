/**
 * Byte-exact legacy phone frames for the load generators, signed with
 * node:crypto (independent of botgate's WASM HMAC). An analyze frame is a
 * per-phone template; only the 13-digit auth timestamp and the 64-char
 * signature change per message, so those 77 bytes are all that is presigned.
 */
import { createHmac } from "node:crypto";

export const BENCH_BOT = { name: "bench", secret: "bench-secret-0123456789abcdef", salt: "bench-salt-42" };
export const MAC = "02:00:00:00:00:00";
export const IP = "10.0.0.1";
/** Bytes that change per message: 13 timestamp digits + 64 hex signature. */
export const VAR_BYTES = 77;

const enc = new TextEncoder();
const TS_MARK = "1111111111111";
const SIG_MARK = "S".repeat(64);

export function deviceId(gen: number, i: number): string {
  return `bench-${String(gen).padStart(2, "0")}-${String(i).padStart(6, "0")}`;
}

/** The handshake line (with its "\n") as text. */
export function handshakeText(device: string, deviceInfo = "bench phone", bot = BENCH_BOT.name): string {
  return JSON.stringify({ clientType: "MessengerBotR", botName: bot, version: "3.2.1", deviceID: device, deviceIP: "192.168.1.100", deviceInfo }) + "\n";
}

export function handshakeLine(device: string, bot = BENCH_BOT.name): Uint8Array {
  return enc.encode(handshakeText(device, "bench phone", bot));
}

/** HMAC-SHA256 hex of the spec's signed string (section 5). */
export function sign(device: string, timestamp: number, bot = BENCH_BOT): string {
  const msg = `MessengerBotR|${bot.name}|${device}|${MAC}|${IP}|${timestamp}|${bot.salt}`;
  return createHmac("sha256", bot.secret).update(msg).digest("hex");
}

/** The analyze/ping `auth` object, fields in the order the phone sends them. */
export function authBlock(device: string, ts: string | number, sig: string): Record<string, unknown> {
  return { clientType: "MessengerBotR", botName: BENCH_BOT.name, deviceUUID: device, deviceID: device, macAddress: MAC, ipAddress: IP, timestamp: ts, version: "3.2.1", signature: sig };
}

export interface FrameTemplate {
  bytes: Uint8Array;
  tsOff: number;
  sigOff: number;
}

/**
 * An analyze line whose text is `!echo ` padded to `textBytes` bytes (the
 * example bot answers with the padding). Timestamp and signature are placeholders.
 */
export function analyzeTemplate(device: string, room: string, textBytes: number): FrameTemplate {
  const text = "!echo " + "x".repeat(Math.max(1, textBytes - 6));
  const obj = {
    event: "analyze",
    data: {
      room, text, sender: "bench", isGroupChat: true, channelId: "18294870190341", logId: null, userHash: "a1b2c3",
      isMention: false, timestamp: "2025-01-20 15:30:45", botName: BENCH_BOT.name, clientType: "MessengerBotR",
      auth: authBlock(device, "@TS@", SIG_MARK),
    },
  };
  // The timestamp is a JSON number: splice the digits in place of the quoted marker.
  const s = JSON.stringify(obj).replace(`"@TS@"`, TS_MARK) + "\n";
  const bytes = enc.encode(s);
  const tsOff = s.indexOf(TS_MARK); // ASCII before it, so char offset == byte offset
  const sigOff = s.indexOf(SIG_MARK);
  if (tsOff < 0 || sigOff < 0 || s.indexOf(TS_MARK, tsOff + 1) >= 0) throw new Error("template markers not found");
  return { bytes, tsOff, sigOff };
}

/** Ping answer with a fresh auth block and the v3.2.x monitoring object (the conns benchmark signs these ahead of time). */
export function pingReplyLine(device: string, serverTimestamp: number, ts: number, sig: string): Uint8Array {
  const a = authBlock(device, "@TS@", sig);
  const monitoring = { total_memory: 2048.0, memory_usage: 512.5, memory_percent: 25.0, message_queue_size: 0, active_rooms: 3 };
  const data = { bot_name: BENCH_BOT.name, server_timestamp: serverTimestamp, monitoring, auth: a };
  return enc.encode(JSON.stringify({ event: "ping", data }).replace(`"@TS@"`, String(ts)) + "\n");
}

/**
 * Writes one analyze frame at `dst[off..]`: the template with the `k`-th
 * presigned (timestamp, signature) pair of `signed` (from `presign`) spliced in.
 */
export function fillFrame(dst: Uint8Array, off: number, tpl: FrameTemplate, signed: Uint8Array, k: number): void {
  const v = k * VAR_BYTES;
  dst.set(tpl.bytes, off);
  dst.set(signed.subarray(v, v + 13), off + tpl.tsOff);
  dst.set(signed.subarray(v + 13, v + VAR_BYTES), off + tpl.sigOff);
}

/** `count` consecutive (timestamp, signature) pairs for one device, 77 bytes each. */
export function presign(device: string, firstTs: number, count: number, out = new Uint8Array(count * VAR_BYTES)): Uint8Array {
  for (let k = 0; k < count; k++) {
    const ts = firstTs + k;
    const o = k * VAR_BYTES;
    enc.encodeInto(String(ts), out.subarray(o, o + 13));
    enc.encodeInto(sign(device, ts), out.subarray(o + 13, o + VAR_BYTES));
  }
  return out;
}
