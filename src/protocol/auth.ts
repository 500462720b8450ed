import { BotgateError } from "../errors.ts";
import { HmacKey, type PackedItem, type PrefixedKey, verifyPacked } from "../wasm/core.ts";
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

/** 64 hex chars -> 32 bytes at out[at..]; false if the string is not exactly that. */
function hexToBytes(hex: string, out: Uint8Array, at: number): boolean {
  if (hex.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const a = hex.charCodeAt(2 * i);
    const b = hex.charCodeAt(2 * i + 1);
    const hi = a < 128 ? HEX_VALUE[a]! : -1;
    const lo = b < 128 ? HEX_VALUE[b]! : -1;
    if ((hi | lo) < 0) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

/** True if `prefix` is exactly `f1|f2|f3|f4|f5|` (what the cache key of these fields would be), without building that string. */
function isPrefixOf(prefix: string, f1: string, f2: string, f3: string, f4: string, f5: string): boolean {
  let at = f1.length + f2.length + f3.length + f4.length + f5.length + 5;
  if (at !== prefix.length) return false;
  at = 0;
  if (!prefix.startsWith(f1, at) || prefix.charCodeAt((at += f1.length)) !== 124) return false;
  if (!prefix.startsWith(f2, ++at) || prefix.charCodeAt((at += f2.length)) !== 124) return false;
  if (!prefix.startsWith(f3, ++at) || prefix.charCodeAt((at += f3.length)) !== 124) return false;
  if (!prefix.startsWith(f4, ++at) || prefix.charCodeAt((at += f4.length)) !== 124) return false;
  return prefix.startsWith(f5, ++at) && prefix.charCodeAt(at + f5.length) === 124;
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

type BotEntry = { key: HmacKey; replay: ReplayCache; /** UTF-8 of "|" + salt */ saltTail: Uint8Array };

/** A cached prefix state: the bot it was made for (checked on every hit), its cache key, its age,
 *  and whether it is still in the cache (an AuthMemo may hold it after it was dropped). */
type PrefixEntry = { bot: BotEntry; key: PrefixedKey; prefix: string; seq: number; live: boolean };

/** A cached prefix state as an AuthMemo holds it (opaque outside this module). */
export type AuthPrefix = PrefixEntry;

/**
 * Per-session memo for AuthVerifier.check(): the prefix state of the session's last event. A phone
 * signs the same `clientType|botName|deviceUUID|macAddress|ipAddress|` every time, so the next
 * event usually needs neither the prefix string nor the cache lookup, only a compare of its
 * fields against the remembered prefix. A hit is exactly a cache hit (same prefix string, same
 * bot, entry still cached); anything else falls back to the cache and re-points the memo.
 * Any object with this one field will do (e.g. the session itself: `authPrefix: AuthPrefix | null = null`);
 * safe (only slower) if shared.
 */
export interface AuthMemo {
  authPrefix: AuthPrefix | null;
}

/** What a phone writes when it cannot read its Android ID. */
const UNKNOWN_ID = "unknown";

/**
 * The block belongs to the session's device. Only `deviceUUID` is signed, so it decides;
 * the unsigned `deviceID` counts only when the phone signed "unknown" (it could not read
 * the id that way; v3.2.1 reads the two ids through different APIs) or the session's own
 * device is "unknown". Otherwise a block signed for device B, with `deviceID` edited to A,
 * would pass on A's session (and prove a takeover of A).
 */
function boundTo(a: AuthBlock, deviceId: string): boolean {
  if (a.deviceUUID === deviceId) return true;
  return a.deviceID === deviceId && (a.deviceUUID === UNKNOWN_ID || deviceId === UNKNOWN_ID);
}

/** A stand-alone AuthMemo. */
export function newAuthMemo(): AuthMemo {
  return { authPrefix: null };
}

export interface AuthVerifierOptions {
  /** Most prefix states kept (all bots together); the oldest are dropped first. Default 50,000. */
  prefixCacheMax?: number;
}

/** An auth block that passed the cheap checks; `macOk` is set by verifyPrepared(). Its MAC and
 *  message live in the verifier's arena (at `at`) until the next verifyPrepared() or verify(). */
export class PreparedAuth implements PackedItem {
  macOk = false;
  constructor(
    readonly key: HmacKey | PrefixedKey,
    readonly at: number,
    readonly length: number,
    readonly block: AuthBlock,
    readonly replay: ReplayCache,
    /** macKey() of the signature, taken before the bytes are reused. */
    readonly replayKey: number,
  ) {}
}

/** Scratch bytes for the MACs and messages of one read (grown for a larger read); reset by verifyPrepared(). */
const ARENA_BYTES = 16 * 1024;
/** A grown arena above this goes back to ARENA_BYTES once its read is verified. */
const ARENA_KEEP = 256 * 1024;

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
  #arena = new Uint8Array(ARENA_BYTES);
  #used = 0;
  readonly #one: PreparedAuth[] = [];
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
        replay: new ReplayCache(windowMs),
        saltTail: enc.encode(`|${b.salt}`),
      });
    }
  }

  /** Throws an AUTH_* BotgateError, or returns the verified block. */
  verify(botName: string, deviceId: string, rawAuth: unknown, now: number, memo?: AuthMemo, makePrefixState = true): AuthBlock {
    const item = this.check(botName, deviceId, rawAuth, now, memo, makePrefixState);
    const one = this.#one;
    one[0] = item;
    try {
      this.verifyPrepared(one);
    } finally {
      one.length = 0;
    }
    return this.commit(item, item.macOk);
  }

  /**
   * Shape, binding, window and hex checks (throws AUTH_* / UNKNOWN_BOT). The
   * item's bytes stay valid until the next verifyPrepared() or verify().
   * `memo` (one per session) skips the prefix cache lookup while the signed prefix stays the same.
   * `makePrefixState` false: if the memo holds no usable state, hash the whole signed string from
   * the bot's key instead of making (and keeping) a prefix state: for events that are rare per
   * session (pings every 30 s), so an idle phone holds no prefix state.
   */
  check(botName: string, deviceId: string, rawAuth: unknown, now: number, memo?: AuthMemo, makePrefixState = true): PreparedAuth {
    const bot = this.#keys.get(botName);
    if (bot === undefined) throw new BotgateError("UNKNOWN_BOT", `unknown bot`);
    const a = decodeAuth(rawAuth);
    if (a.botName !== botName) throw new BotgateError("AUTH_MISMATCH", "auth.botName does not match the session");
    if (!boundTo(a, deviceId)) {
      // Said apart, so a phone model that signs another id than it sends is easy to spot in the log.
      const why = a.deviceID === deviceId ? "auth.deviceUUID (the signed id) is not the session's device" : "auth device does not match the session";
      throw new BotgateError("AUTH_MISMATCH", why);
    }
    if (Math.abs(now - a.timestamp) > this.#windowMs) throw new BotgateError("AUTH_STALE", "auth.timestamp outside the accepted window");
    if (a.timestamp < bot.replay.forgottenBefore) {
      // The wall clock stepped back past what the replay check still remembers: it could not tell a replay.
      throw new BotgateError("AUTH_STALE", "auth.timestamp is older than the replay check remembers (the server clock stepped back)");
    }
    // signed = prefix + `${timestamp}|${salt}`; the prefix's state comes from the cache,
    // the rest is written as bytes (decimal digits, then the bot's "|salt")
    // Arena layout per item: the MAC (32 bytes), the timestamp's digits (<= 16 for a safe
    // integer), then the bot's "|salt" (the prefix state keeps the prefix's last bytes in WASM).
    const salt = bot.saltTail;
    const at = this.#reserve(32 + 16 + salt.length);
    let buf = this.#arena;
    if (!hexToBytes(a.signature, buf, at)) throw new BotgateError("AUTH_INVALID", "auth.signature must be 64 hex characters");
    let e = memo?.authPrefix;
    let key: HmacKey | PrefixedKey;
    let p = at + 32;
    if (e != null && e.live && e.bot === bot && isPrefixOf(e.prefix, a.clientType, a.botName, a.deviceUUID, a.macAddress, a.ipAddress)) {
      this.#touch(e);
      key = e.key;
    } else {
      const prefix = `${a.clientType}|${a.botName}|${a.deviceUUID}|${a.macAddress}|${a.ipAddress}|`;
      if (makePrefixState) {
        e = this.#prefixEntry(bot, prefix);
        if (memo !== undefined) memo.authPrefix = e;
        key = e.key;
      } else {
        // The whole prefix from the bot's key (its bytes: at most 3 per UTF-16 unit).
        key = bot.key;
        const need = 32 + prefix.length * 3 + 16 + salt.length;
        if (at + need > buf.length) {
          this.#reserve(need); // keeps the MAC already written at `at`
          buf = this.#arena;
        }
        p += enc.encodeInto(prefix, buf.subarray(p)).written;
      }
    }
    p += writeDecimal(a.timestamp, buf, p);
    buf.set(salt, p);
    p += salt.length;
    this.#used = p;
    return new PreparedAuth(key, at, p - at - 32, a, bot.replay, macKey(buf, at));
  }

  /** The bot's prefix state for `prefix`, cached; roughly least recently used ones go first. */
  #prefixEntry(bot: BotEntry, prefix: string): PrefixEntry {
    const cache = this.#prefixes;
    const e = cache.get(prefix);
    if (e !== undefined && e.bot === bot) {
      this.#touch(e);
      return e;
    }
    // A miss, or the same string for another bot (a '|' inside clientType or botName):
    // a state is only ever used with the key it was made from.
    if (e !== undefined) {
      cache.delete(prefix);
      e.live = false;
      this.#evicted.push(e.key);
    }
    while (cache.size >= this.#prefixMax) {
      const old = cache.values().next().value!;
      cache.delete(old.prefix);
      old.live = false;
      this.#evicted.push(old.key);
    }
    const entry: PrefixEntry = { bot, key: bot.key.prefixed(enc.encode(prefix)), prefix, seq: this.#prefixSeq++, live: true };
    cache.set(prefix, entry);
    return entry;
  }

  /** A hit: refresh only entries from the older half, so a hit is usually free. */
  #touch(e: PrefixEntry): void {
    if (this.#prefixSeq - e.seq > this.#prefixMax >> 1) {
      const cache = this.#prefixes;
      cache.delete(e.prefix);
      e.seq = this.#prefixSeq++;
      cache.set(e.prefix, e);
    }
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

  /** Sets the MAC verdict (`macOk`) of checked items: one WASM batch call (the scalar path for a single item). */
  verifyPrepared(items: ArrayLike<PreparedAuth>): void {
    try {
      if (items.length > 0) verifyPacked(this.#arena, items);
    } finally {
      this.#used = 0;
      if (this.#arena.length > ARENA_KEEP) this.#arena = new Uint8Array(ARENA_BYTES);
      this.#disposeEvicted();
    }
  }

  /** Given the MAC verdict, the single-use check (in arrival order): throws AUTH_BAD_SIGNATURE / AUTH_REPLAY, or returns the block. */
  commit(item: PreparedAuth, macOk = item.macOk): AuthBlock {
    if (!macOk) throw new BotgateError("AUTH_BAD_SIGNATURE", "auth.signature does not verify");
    if (!item.replay.remember(item.block.timestamp, item.replayKey)) throw new BotgateError("AUTH_REPLAY", "auth block was already used");
    return item.block;
  }

  /** Drop replay entries that left the window; called by the gateway's sweep timer. */
  prune(now: number): void {
    for (const b of this.#keys.values()) b.replay.prune(now);
  }

  /** Benchmark hook: empties the replay caches (see ReplayCache.clear); never called by the gateway. */
  clearReplay(): void {
    for (const b of this.#keys.values()) b.replay.clear();
  }

  get replayEntries(): number {
    let n = 0;
    for (const b of this.#keys.values()) n += b.replay.size;
    return n;
  }

  dispose(): void {
    for (const e of this.#prefixes.values()) {
      e.live = false;
      e.key.dispose();
    }
    this.#prefixes.clear();
    this.#disposeEvicted();
    for (const b of this.#keys.values()) b.key.dispose();
    this.#keys.clear();
  }

  /** Offset of `n` free bytes in the arena; a full arena is replaced by a larger copy of all of it (offsets and bytes stay valid). */
  #reserve(n: number): number {
    const at = this.#used;
    const old = this.#arena;
    if (at + n > old.length) {
      const grown = new Uint8Array(Math.max(old.length * 2, at + n));
      grown.set(old);
      this.#arena = grown;
    }
    return at;
  }
}
