// SHA-256 and HMAC-SHA256 over the shared WASM instance. Key pad states live in
// WASM key slots (64 bytes each); slot 0 is scratch for one-shot hmacSha256().
// Prefix states (PrefixedKey) share the slot table.
import { ensureSlots, heap, heap32, L, wasm } from "./instance.ts";

const SCRATCH_SLOT = 0;
let nextSlot = 1;
const freeSlots: number[] = [];

function allocSlot(): number {
  const slot = freeSlots.pop() ?? nextSlot++;
  ensureSlots(slot + 1);
  return slot;
}

function releaseSlot(slot: number): void {
  wasm.keyClear(slot);
  freeSlots.push(slot);
}

function bytesArg(name: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  return v;
}

/** Feeds data through the streaming context in HASH_IN-sized pieces. */
function streamUpdate(data: Uint8Array): void {
  for (let i = 0; i < data.length; i += L.hashCap) {
    const piece = data.subarray(i, Math.min(data.length, i + L.hashCap));
    heap.set(piece, L.hashIn);
    wasm.shaUpdate(L.hashIn, piece.length);
  }
}

function digestOut(): Uint8Array {
  return heap.slice(L.digestOut, L.digestOut + 32);
}

export function sha256(data: Uint8Array): Uint8Array {
  bytesArg("data", data);
  if (data.length <= L.hashCap) {
    heap.set(data, L.hashIn);
    wasm.sha256(L.hashIn, data.length, L.digestOut);
  } else {
    wasm.shaInit();
    streamUpdate(data);
    wasm.shaFinal(L.digestOut);
  }
  return digestOut();
}

function setupSlot(slot: number, key: Uint8Array): void {
  const k = key.length > 64 ? sha256(key) : key; // RFC 2104: long keys are hashed first
  heap.set(k, L.hashIn);
  wasm.keySetup(slot, L.hashIn, k.length);
  heap.fill(0, L.hashIn, L.hashIn + k.length);
}

/** HMAC over `msg` from slot code `code` (a key slot, or a prefix slot: WASM hashes the
 *  prefix's unabsorbed tail bytes first); the digest lands at DIGEST_OUT. */
function signWith(code: number, msg: Uint8Array): Uint8Array {
  if (msg.length <= L.hashCap) {
    heap.set(msg, L.hashIn);
    wasm.hmacSign(code, L.hashIn, msg.length, L.digestOut);
  } else {
    wasm.hmacStart(code);
    streamUpdate(msg);
    wasm.hmacFinishSign(code, L.digestOut);
  }
  return digestOut();
}

/** Compares HMAC(msg) from slot code `code` against the 32 bytes already placed at MAC_IN. */
function verifyWith(code: number, msg: Uint8Array): boolean {
  if (msg.length <= L.hashCap) {
    heap.set(msg, L.hashIn);
    return wasm.hmacVerify(code, L.hashIn, msg.length, L.macIn) === 1;
  }
  wasm.hmacStart(code);
  streamUpdate(msg);
  return wasm.hmacFinishVerify(code, L.macIn) === 1;
}

export function hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array {
  setupSlot(SCRATCH_SLOT, bytesArg("key", key));
  try {
    return signWith(SCRATCH_SLOT, bytesArg("msg", msg));
  } finally {
    wasm.keyClear(SCRATCH_SLOT);
  }
}

/** Slots are < 2^26 (64 bytes each in a 32-bit address space), so a slot and a prefix's
 *  tail slot fit in one number: the FinalizationRegistry's held value. */
const SLOT_SPAN = 2 ** 26;
function releaseSlots(held: number): void {
  const tailSlot = Math.floor(held / SLOT_SPAN);
  releaseSlot(held - tailSlot * SLOT_SPAN);
  if (tailSlot > 0) releaseSlot(tailSlot);
}
const registry = new FinalizationRegistry<number>(releaseSlots);
/** Top bit of a slot code: the slot is a prefix slot (wasm/assembly/layout.ts). */
const PREFIX_FLAG = 0x80000000 | 0;
let codeOf: (key: SlotKey) => number;

/** A WASM slot that starts the inner hash of a message: an HmacKey or a PrefixedKey. */
abstract class SlotKey {
  /** The slot, plus a prefix's tail slot * SLOT_SPAN; -1 once disposed. */
  #slots: number;
  readonly #code: number;
  readonly #parent: SlotKey | null;

  static {
    codeOf = (key) => key.#live();
  }

  protected constructor(slots: number, code: number, parent: SlotKey | null) {
    this.#slots = slots;
    this.#code = code;
    this.#parent = parent;
    registry.register(this, slots, this);
  }

  #live(): number {
    if (this.#slots < 0) throw new Error(`${this.constructor.name} used after dispose()`);
    // A prefix slot refers to its key's slot for the outer state; once that slot is freed it
    // may hold another key, so a prefix of a disposed key must not be used.
    if (this.#parent !== null && this.#parent.#slots < 0) throw new Error("PrefixedKey used after its HmacKey was disposed");
    return this.#code;
  }

  sign(msg: Uint8Array): Uint8Array {
    return signWith(this.#live(), bytesArg("msg", msg));
  }

  verify(msg: Uint8Array, mac: Uint8Array): boolean {
    const code = this.#live();
    bytesArg("msg", msg);
    if (!(mac instanceof Uint8Array) || mac.length !== 32) return false;
    heap.set(mac, L.macIn);
    return verifyWith(code, msg);
  }

  /** Zeroes and frees the slot. Idempotent; sign/verify afterwards throw. */
  dispose(): void {
    if (this.#slots < 0) return;
    registry.unregister(this);
    releaseSlots(this.#slots);
    this.#slots = -1;
  }
}

/** An HMAC-SHA256 key: its inner and outer pad states, computed once, in a WASM slot. */
export class HmacKey extends SlotKey {
  constructor(key: Uint8Array) {
    bytesArg("key", key);
    const slot = allocSlot();
    setupSlot(slot, key);
    super(slot, slot, null);
  }

  /** A key whose messages all start with `prefix`: see PrefixedKey. */
  prefixed(prefix: Uint8Array): PrefixedKey {
    return new PrefixedKey(this, prefix);
  }
}

/**
 * The HMAC of this key for messages that start with a fixed prefix: the inner hash's
 * chaining state after the ipad block and the prefix's whole 64-byte blocks is computed
 * once and kept in a WASM slot; the prefix bytes after those blocks (< 64) are kept in a
 * second slot, and WASM hashes them before each message.
 * `sign(rest)` / `verify(rest, mac)` equal the key's `sign(prefix ++ rest)` /
 * `verify(prefix ++ rest, mac)`, bit for bit. It also works as `VerifyItem.key`
 * (the item's `message` is then the rest). Keeps its HmacKey alive; throws once that
 * key is disposed. Dispose it when done (or leave it to the garbage collector).
 */
export class PrefixedKey extends SlotKey {
  /** Bytes of the prefix. */
  readonly prefixLength: number;

  constructor(key: HmacKey, prefix: Uint8Array) {
    if (!(key instanceof HmacKey)) throw new TypeError("key must be an HmacKey");
    bytesArg("prefix", prefix);
    const keyCode = codeOf(key);
    const whole = prefix.length - (prefix.length % 64);
    const tail = prefix.length - whole;
    const slot = allocSlot();
    const tailSlot = tail > 0 ? allocSlot() : 0;
    const slots = slot + tailSlot * SLOT_SPAN;
    wasm.hmacStart(keyCode);
    streamUpdate(prefix.subarray(0, whole));
    heap.set(prefix.subarray(whole), L.hashIn);
    if (wasm.prefixSave(slot, keyCode, tailSlot, L.hashIn, tail) !== 0) {
      releaseSlots(slots);
      throw new RangeError("prefix is too long");
    }
    super(slots, slot | PREFIX_FLAG, key);
    this.prefixLength = prefix.length;
  }
}

export interface VerifyItem {
  key: HmacKey | PrefixedKey;
  /** The whole message for an HmacKey; what follows the prefix for a PrefixedKey. */
  message: Uint8Array;
  mac: Uint8Array;
}

const batchIndex = new Int32Array(L.batchMax);
/** JavaScriptCore (Bun) runs the 4-lane kernel faster with multiplies in place of left shifts;
 *  V8 (Deno, Node) with plain shifts. See wasm/assembly/batch.ts. */
const MUL_SHIFTS = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? 1 : 0;

/** Runs the kernel over the `count` packed items and scatters the results into `out`. */
function flushBatch(count: number, out: boolean[]): void {
  wasm.verifyBatch(count, MUL_SHIFTS);
  const h = heap;
  const res = L.batchOut;
  for (let k = 0; k < count; k++) out[batchIndex[k]!] = h[res + k] === 1;
}

/** Verifies many MACs with one WASM call per full batch buffer (4 SIMD lanes inside). */
export function verifyBatch(items: VerifyItem[], out: boolean[] = []): boolean[] {
  const n = items.length;
  out.length = n;
  const cap = L.batchCap;
  const max = L.batchMax;
  const base = L.batchIn;
  let count = 0;
  let used = 0;
  let h = heap;
  let h32 = heap32;
  let d = L.batchDesc >>> 2;
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    const key = item.key;
    const message = item.message;
    const mac = item.mac;
    const code = codeOf(key);
    bytesArg("message", message);
    if (!(mac instanceof Uint8Array) || mac.length !== 32) {
      out[i] = false;
      continue;
    }
    const len = message.length;
    if (len + 32 > cap) {
      out[i] = key.verify(message, mac); // streamed through HASH_IN
      h = heap; // (views are re-read after any call that could have grown memory)
      h32 = heap32;
      continue;
    }
    if (count === max || used + len + 32 > cap) {
      flushBatch(count, out);
      count = 0;
      used = 0;
      d = L.batchDesc >>> 2;
    }
    const msgPtr = base + used;
    h.set(message, msgPtr);
    h.set(mac, msgPtr + len);
    h32[d] = code;
    h32[d + 1] = msgPtr;
    h32[d + 2] = len;
    h32[d + 3] = msgPtr + len;
    d += 4;
    batchIndex[count++] = i;
    used += len + 32;
  }
  if (count > 0) flushBatch(count, out);
  return out;
}

/** One MAC to check from bytes the caller packed into one buffer (see verifyPacked). */
export interface PackedItem {
  readonly key: HmacKey | PrefixedKey;
  /** Offset of the item in the packed bytes: its 32-byte MAC, then its message (for a
   *  PrefixedKey what follows the prefix, as for PrefixedKey.verify). */
  readonly at: number;
  /** Bytes of the message after the MAC. */
  readonly length: number;
  /** The verdict, set by verifyPacked(). */
  macOk: boolean;
}

/**
 * Verifies items packed by the caller into `bytes` (no view per item): the packed bytes of a
 * run of items go into the batch area with one copy, then one WASM batch call (a single item
 * takes the scalar path inside). Items are best given in ascending `at` order (then the whole
 * read is one copy); any order is correct. Sets each item's `macOk`.
 */
export function verifyPacked(bytes: Uint8Array, items: ArrayLike<PackedItem>): void {
  const n = items.length;
  const cap = L.batchCap;
  const max = L.batchMax;
  const base = L.batchIn;
  let h32 = heap32;
  let first = 0; // index of the run's first item
  let count = 0;
  let start = 0; // packed offset of the run's first byte
  let end = 0;
  let d = L.batchDesc >>> 2;
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    const code = codeOf(item.key);
    const at = item.at;
    const len = item.length;
    const stop = at + 32 + len;
    if (count > 0 && (count === max || at < start || Math.max(end, stop) - start > cap)) {
      flushPacked(bytes, items, first, count, start, end);
      count = 0;
      d = L.batchDesc >>> 2;
    }
    if (len + 32 > cap) {
      // Larger than the batch area: streamed through HASH_IN.
      heap.set(bytes.subarray(at, at + 32), L.macIn);
      item.macOk = verifyWith(code, bytes.subarray(at + 32, stop));
      h32 = heap32; // (views are re-read after any call that could have grown memory)
      first = i + 1;
      continue;
    }
    if (count === 0) {
      first = i;
      start = at;
      end = stop;
    } else if (stop > end) end = stop;
    const ptr = base + at - start;
    h32[d] = code;
    h32[d + 1] = ptr + 32;
    h32[d + 2] = len;
    h32[d + 3] = ptr;
    d += 4;
    count++;
  }
  if (count > 0) flushPacked(bytes, items, first, count, start, end);
}

function flushPacked(bytes: Uint8Array, items: ArrayLike<PackedItem>, first: number, count: number, start: number, end: number): void {
  heap.set(bytes.subarray(start, end), L.batchIn);
  wasm.verifyBatch(count, MUL_SHIFTS);
  const h = heap;
  const res = L.batchOut;
  for (let k = 0; k < count; k++) items[first + k]!.macOk = h[res + k] === 1;
}
