// SHA-256 and HMAC-SHA256 over the shared WASM instance. Key pad states live in
// WASM key slots (64 bytes each); slot 0 is scratch for one-shot hmacSha256().
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

function signWith(slot: number, msg: Uint8Array): Uint8Array {
  if (msg.length <= L.hashCap) {
    heap.set(msg, L.hashIn);
    wasm.hmacSign(slot, L.hashIn, msg.length, L.digestOut);
  } else {
    wasm.hmacStart(slot);
    streamUpdate(msg);
    wasm.hmacFinishSign(slot, L.digestOut);
  }
  return digestOut();
}

/** Compares against the 32 bytes already placed at MAC_IN. */
function verifyWith(slot: number, msg: Uint8Array): boolean {
  if (msg.length <= L.hashCap) {
    heap.set(msg, L.hashIn);
    return wasm.hmacVerify(slot, L.hashIn, msg.length, L.macIn) === 1;
  }
  wasm.hmacStart(slot);
  streamUpdate(msg);
  return wasm.hmacFinishVerify(slot, L.macIn) === 1;
}

export function hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array {
  setupSlot(SCRATCH_SLOT, bytesArg("key", key));
  try {
    return signWith(SCRATCH_SLOT, bytesArg("msg", msg));
  } finally {
    wasm.keyClear(SCRATCH_SLOT);
  }
}

/** Decodes 64 hex chars (all lowercase or all uppercase) into MAC_IN; false if malformed. */
function hexToMacIn(hex: unknown): boolean {
  if (typeof hex !== "string" || hex.length !== 64) return false;
  let lower = false;
  let upper = false;
  const base = L.macIn;
  for (let i = 0; i < 32; i++) {
    let byte = 0;
    for (let j = 0; j < 2; j++) {
      const c = hex.charCodeAt(2 * i + j);
      let v: number;
      if (c >= 48 && c <= 57) v = c - 48;
      else if (c >= 97 && c <= 102) (v = c - 87), (lower = true);
      else if (c >= 65 && c <= 70) (v = c - 55), (upper = true);
      else return false;
      byte = (byte << 4) | v;
    }
    heap[base + i] = byte;
  }
  return !(lower && upper);
}

const registry = new FinalizationRegistry<number>(releaseSlot);
let slotOf: (key: HmacKey) => number;

export class HmacKey {
  #slot: number;

  static {
    slotOf = (key) => key.#live();
  }

  constructor(key: Uint8Array) {
    bytesArg("key", key);
    this.#slot = allocSlot();
    setupSlot(this.#slot, key);
    registry.register(this, this.#slot, this);
  }

  #live(): number {
    if (this.#slot < 0) throw new Error("HmacKey used after dispose()");
    return this.#slot;
  }

  sign(msg: Uint8Array): Uint8Array {
    return signWith(this.#live(), bytesArg("msg", msg));
  }

  verify(msg: Uint8Array, mac: Uint8Array): boolean {
    const slot = this.#live();
    bytesArg("msg", msg);
    if (!(mac instanceof Uint8Array) || mac.length !== 32) return false;
    heap.set(mac, L.macIn);
    return verifyWith(slot, msg);
  }

  verifyHex(msg: Uint8Array, hex: string): boolean {
    const slot = this.#live();
    bytesArg("msg", msg);
    if (!hexToMacIn(hex)) return false;
    return verifyWith(slot, msg);
  }

  /** Zeroes and frees the key slot. Idempotent; sign/verify afterwards throw. */
  dispose(): void {
    if (this.#slot < 0) return;
    registry.unregister(this);
    releaseSlot(this.#slot);
    this.#slot = -1;
  }
}

export interface VerifyItem {
  key: HmacKey;
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
    const slot = slotOf(key);
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
    h32[d] = slot;
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
