import { BotgateError } from "../errors.ts";
import { HmacKey } from "../wasm/core.ts";
import { decodeAuth } from "./decode.ts";
import type { AuthBlock } from "./frames.ts";
import { macKey, ReplayCache } from "./replay.ts";

export interface BotSecrets {
  name: string;
  secret: string;
  salt: string;
}

const enc = new TextEncoder();
/** Hex digit value by char code; -1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[65 + i] = HEX_VALUE[97 + i] = 10 + i;

/** 64 hex chars -> 32 bytes; false if the string is not exactly that. */
function hexToBytes(hex: string, out: Uint8Array): boolean {
  if (hex.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const a = hex.charCodeAt(2 * i);
    const b = hex.charCodeAt(2 * i + 1);
    const hi = a < 128 ? HEX_VALUE[a]! : -1;
    const lo = b < 128 ? HEX_VALUE[b]! : -1;
    if ((hi | lo) < 0) return false;
    out[i] = (hi << 4) | lo;
  }
  return true;
}

/**
 * Verifies the `auth` block of phone events: shape, binding to the session's
 * bot and device, +/- window on the timestamp, HMAC-SHA256 (in WASM, with the
 * pad state precomputed once per bot), then single use.
 */
export class AuthVerifier {
  readonly #keys = new Map<string, { key: HmacKey; salt: string; replay: ReplayCache }>();
  readonly #windowMs: number;
  readonly #mac = new Uint8Array(32);
  readonly #msgBuf = { bytes: new Uint8Array(1024) };

  constructor(bots: readonly BotSecrets[], windowMs: number) {
    this.#windowMs = windowMs;
    for (const b of bots) {
      this.#keys.set(b.name, { key: new HmacKey(enc.encode(b.secret)), salt: b.salt, replay: new ReplayCache(windowMs) });
    }
  }

  has(botName: string): boolean {
    return this.#keys.has(botName);
  }

  /** Throws an AUTH_* BotgateError, or returns the verified block. */
  verify(botName: string, deviceId: string, rawAuth: unknown, now: number): AuthBlock {
    const bot = this.#keys.get(botName);
    if (bot === undefined) throw new BotgateError("UNKNOWN_BOT", `unknown bot`);
    const a = decodeAuth(rawAuth);
    if (a.botName !== botName) throw new BotgateError("AUTH_MISMATCH", "auth.botName does not match the session");
    if (a.deviceUUID !== deviceId && a.deviceID !== deviceId) {
      throw new BotgateError("AUTH_MISMATCH", "auth device does not match the session");
    }
    if (Math.abs(now - a.timestamp) > this.#windowMs) throw new BotgateError("AUTH_STALE", "auth.timestamp outside the accepted window");
    if (!hexToBytes(a.signature, this.#mac)) throw new BotgateError("AUTH_INVALID", "auth.signature must be 64 hex characters");
    const signed = `${a.clientType}|${a.botName}|${a.deviceUUID}|${a.macAddress}|${a.ipAddress}|${a.timestamp}|${bot.salt}`;
    const msg = this.#encode(signed);
    if (!bot.key.verify(msg, this.#mac)) throw new BotgateError("AUTH_BAD_SIGNATURE", "auth.signature does not verify");
    if (!bot.replay.remember(a.timestamp, macKey(this.#mac))) throw new BotgateError("AUTH_REPLAY", "auth block was already used");
    return a;
  }

  /** Drop replay entries that left the window; called by the gateway's sweep timer. */
  prune(now: number): void {
    for (const b of this.#keys.values()) b.replay.prune(now);
  }

  get replayEntries(): number {
    let n = 0;
    for (const b of this.#keys.values()) n += b.replay.size;
    return n;
  }

  dispose(): void {
    for (const b of this.#keys.values()) b.key.dispose();
    this.#keys.clear();
  }

  #encode(s: string): Uint8Array {
    const buf = this.#msgBuf;
    if (buf.bytes.length < s.length * 3) buf.bytes = new Uint8Array(s.length * 3);
    const { written } = enc.encodeInto(s, buf.bytes);
    return buf.bytes.subarray(0, written);
  }
}
