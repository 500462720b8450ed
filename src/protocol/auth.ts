import { BotgateError } from "../errors.ts";
import { HmacKey, type PrefixedKey, type VerifyItem, verifyBatch } from "../wasm/core.ts";
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

/** Writes a non-negative safe integer in decimal ASCII at out[at..]; returns the digit count.
 *  Two int32 halves (below and above 10^8), so no floating-point modulo. */
function writeDecimal(n: number, out: Uint8Array, at: number): number {
  let hi = Math.floor(n / 1e8);
  let lo = n - hi * 1e8; // exact; the quotient may be off by one after rounding
  if (lo < 0) (hi--, (lo += 1e8));
  else if (lo >= 1e8) (hi++, (lo -= 1e8));
  let len = 0;
  if (hi > 0) {
    len = 1;
    for (let p = 10; p <= hi; p *= 10) len++;
    for (let i = at + len - 1, h = hi | 0; i >= at; i--) {
      const q = (h / 10) | 0;
      out[i] = 48 + h - q * 10;
      h = q;
    }
    len += 8; // lo with leading zeros
  } else {
    len = 1;
    for (let p = 10; p <= lo; p *= 10) len++;
  }
  for (let i = at + len - 1, l = lo | 0, k = 0; k < 8 && i >= at; i--, k++) {
    const q = (l / 10) | 0;
    out[i] = 48 + l - q * 10;
    l = q;
  }
  return len;
}

type BotEntry = { key: HmacKey; salt: string; replay: ReplayCache; /** UTF-8 of "|" + salt */ saltTail: Uint8Array };

/** A cached prefix state: the bot it was made for (checked on every hit) and its age. */
type PrefixEntry = { bot: BotEntry; key: PrefixedKey; seq: number };

export interface AuthVerifierOptions {
  /** Most prefix states kept (all bots together); the oldest are dropped first. Default 50,000. */
  prefixCacheMax?: number;
}

/** An auth block that passed the cheap checks; its MAC is not known good yet. */
export interface PreparedAuth extends VerifyItem {
  readonly block: AuthBlock;
  readonly replay: ReplayCache;
  /** macKey() of the signature, taken before the bytes are reused. */
  readonly replayKey: number;
}

/** Scratch bytes for the signed strings and MACs of one read; reset by verifyPrepared(). */
const ARENA_BYTES = 16 * 1024;

/**
 * Verifies the `auth` block of phone events: shape, binding to the session's
 * bot and device, +/- window on the timestamp, HMAC-SHA256 (in WASM, with the
 * pad state precomputed once per bot), then single use.
 *
 * The signed string is `clientType|botName|deviceUUID|macAddress|ipAddress|timestamp|SALT`;
 * everything before the timestamp stays the same for a device session. The inner
 * hash state after that prefix's whole 64-byte blocks is cached per bot and prefix
 * (a PrefixedKey), so each event hashes only the prefix's last bytes,
 * `timestamp|SALT` and the outer block: the same HMAC, fewer compressions.
 */
export class AuthVerifier {
  readonly #keys = new Map<string, BotEntry>();
  readonly #windowMs: number;
  readonly #arena = new Uint8Array(ARENA_BYTES);
  #used = 0;
  readonly #results: boolean[] = [];
  /** Prefix string -> state, in insertion (or refresh) order. */
  readonly #prefixes = new Map<string, PrefixEntry>();
  readonly #prefixMax: number;
  #prefixSeq = 0;
  /** Dropped states; items from check() may still use them until the next verify. */
  #evicted: PrefixedKey[] = [];

  constructor(bots: readonly BotSecrets[], windowMs: number, options: AuthVerifierOptions = {}) {
    this.#windowMs = windowMs;
    this.#prefixMax = Math.max(1, options.prefixCacheMax ?? 50_000);
    for (const b of bots) {
      this.#keys.set(b.name, {
        key: new HmacKey(enc.encode(b.secret)),
        salt: b.salt,
        replay: new ReplayCache(windowMs),
        saltTail: enc.encode(`|${b.salt}`),
      });
    }
  }

  has(botName: string): boolean {
    return this.#keys.has(botName);
  }

  /** Throws an AUTH_* BotgateError, or returns the verified block. */
  verify(botName: string, deviceId: string, rawAuth: unknown, now: number): AuthBlock {
    const item = this.check(botName, deviceId, rawAuth, now);
    const ok = item.key.verify(item.message, item.mac);
    this.#used = 0;
    this.#disposeEvicted();
    return this.commit(item, ok);
  }

  /**
   * Shape, binding, window and hex checks (throws AUTH_* / UNKNOWN_BOT). The
   * item's bytes stay valid until the next verifyPrepared() or verify().
   */
  check(botName: string, deviceId: string, rawAuth: unknown, now: number): PreparedAuth {
    const bot = this.#keys.get(botName);
    if (bot === undefined) throw new BotgateError("UNKNOWN_BOT", `unknown bot`);
    const a = decodeAuth(rawAuth);
    if (a.botName !== botName) throw new BotgateError("AUTH_MISMATCH", "auth.botName does not match the session");
    if (a.deviceUUID !== deviceId && a.deviceID !== deviceId) {
      throw new BotgateError("AUTH_MISMATCH", "auth device does not match the session");
    }
    if (Math.abs(now - a.timestamp) > this.#windowMs) throw new BotgateError("AUTH_STALE", "auth.timestamp outside the accepted window");
    // signed = prefix + `${timestamp}|${salt}`; the prefix's state comes from the cache,
    // the rest is written as bytes (decimal digits, then the bot's "|salt")
    const salt = bot.saltTail;
    const buf = this.#take(32 + 16 + salt.length); // a safe integer has at most 16 digits
    const mac = buf.subarray(0, 32);
    if (!hexToBytes(a.signature, mac)) throw new BotgateError("AUTH_INVALID", "auth.signature must be 64 hex characters");
    const key = this.#prefixKey(bot, `${a.clientType}|${a.botName}|${a.deviceUUID}|${a.macAddress}|${a.ipAddress}|`);
    const digits = writeDecimal(a.timestamp, buf, 32);
    buf.set(salt, 32 + digits);
    const len = digits + salt.length;
    this.#used += 32 + len;
    return { key, message: buf.subarray(32, 32 + len), mac, block: a, replay: bot.replay, replayKey: macKey(mac) };
  }

  /** The bot's prefix state for `prefix`, cached; roughly least recently used ones go first. */
  #prefixKey(bot: BotEntry, prefix: string): PrefixedKey {
    const cache = this.#prefixes;
    const e = cache.get(prefix);
    if (e !== undefined && e.bot === bot) {
      // Refresh only entries from the older half, so a hit is usually just the get().
      if (this.#prefixSeq - e.seq > this.#prefixMax >> 1) {
        cache.delete(prefix);
        e.seq = this.#prefixSeq++;
        cache.set(prefix, e);
      }
      return e.key;
    }
    // A miss, or the same string for another bot (a '|' inside clientType or botName):
    // a state is only ever used with the key it was made from.
    if (e !== undefined) {
      cache.delete(prefix);
      this.#evicted.push(e.key);
    }
    while (cache.size >= this.#prefixMax) {
      const [oldest, old] = cache.entries().next().value!;
      cache.delete(oldest);
      this.#evicted.push(old.key);
    }
    const key = bot.key.prefixed(enc.encode(prefix));
    cache.set(prefix, { bot, key, seq: this.#prefixSeq++ });
    return key;
  }

  #disposeEvicted(): void {
    const ev = this.#evicted;
    if (ev.length === 0) return;
    this.#evicted = [];
    for (const k of ev) k.dispose();
  }

  /** Prefix states currently cached. */
  get prefixStates(): number {
    return this.#prefixes.size;
  }

  /** MAC verdicts of checked items, in order: one WASM batch call (one plain verify for a single item). */
  verifyPrepared(items: PreparedAuth[]): boolean[] {
    const out = this.#results;
    if (items.length === 1) {
      out.length = 1;
      out[0] = items[0]!.key.verify(items[0]!.message, items[0]!.mac);
    } else verifyBatch(items, out);
    this.#used = 0;
    this.#disposeEvicted();
    return out;
  }

  /** Given the MAC verdict, the single-use check (in arrival order): throws AUTH_BAD_SIGNATURE / AUTH_REPLAY, or returns the block. */
  commit(item: PreparedAuth, macOk: boolean): AuthBlock {
    if (!macOk) throw new BotgateError("AUTH_BAD_SIGNATURE", "auth.signature does not verify");
    if (!item.replay.remember(item.block.timestamp, item.replayKey)) throw new BotgateError("AUTH_REPLAY", "auth block was already used");
    return item.block;
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
    for (const e of this.#prefixes.values()) e.key.dispose();
    this.#prefixes.clear();
    this.#disposeEvicted();
    for (const b of this.#keys.values()) b.key.dispose();
    this.#keys.clear();
  }

  /** `n` bytes from the arena, or a fresh buffer when it is full (earlier items keep theirs). */
  #take(n: number): Uint8Array {
    const at = this.#used;
    if (at + n <= ARENA_BYTES) return this.#arena.subarray(at, at + n);
    return new Uint8Array(n);
  }
}
