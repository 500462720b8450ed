// HMAC-SHA256 (RFC 2104) with precomputed pad states kept in key slots, and prefix slots
// that continue the inner hash from a precomputed midstate (see layout.ts).
import { slotPtr, innerPtr, outerPtr, absorbedOf, tailLenOf, tailPtrOf, PREFIX_ABSORBED, PREFIX_KEY, PREFIX_TAIL_LEN, PREFIX_TAIL_SLOT } from "./layout";
import { compress, ctxStartFrom, ctxSave, shaInit, ctxFinish, shaUpdate, writeDigest, CTX_STATE } from "./sha256";

const PAD: usize = memory.data(64, 16);
const OUTER_STATE: usize = memory.data(32, 16);
const OUTER_BLOCK: usize = memory.data(64, 16);

/** Key must already be <= 64 bytes (JS hashes longer keys first, per RFC 2104). */
export function keySetup(slot: i32, key: usize, keyLen: i32): void {
  const s = slotPtr(slot);
  for (let pass = 0; pass < 2; pass++) {
    const x: u8 = pass == 0 ? 0x36 : 0x5c;
    for (let i: i32 = 0; i < 64; i++) {
      const k: u8 = i < keyLen ? load<u8>(key + <usize>i) : 0;
      store<u8>(PAD + <usize>i, k ^ x);
    }
    shaInit();
    compress(CTX_STATE, PAD);
    memory.copy(s + <usize>(pass << 5), CTX_STATE, 32);
  }
  memory.fill(PAD, 0, 64);
}

/** Zeroes a key slot or a prefix slot. */
export function keyClear(slot: i32): void {
  memory.fill(slotPtr(slot), 0, 64);
}

/**
 * Ends a prefix: the stream (started with hmacStart(keySlot), fed whole 64-byte blocks only)
 * is saved into prefix slot `slot`, and the prefix's remaining `tailLen` (< 64) bytes at
 * `tail` into slot `tailSlot` (not touched if tailLen is 0). Returns 0, or -1 if a partial
 * block is buffered, the count does not fit in u32 or tailLen is out of range (nothing is
 * written then).
 */
export function prefixSave(slot: i32, keySlot: i32, tailSlot: i32, tail: usize, tailLen: i32): i32 {
  const s = slotPtr(slot);
  const total = ctxSave(OUTER_STATE);
  if (total < 0 || total > <i64>0xffffffc0 || tailLen < 0 || tailLen > 63) {
    memory.fill(OUTER_STATE, 0, 32);
    return -1;
  }
  memory.copy(s, OUTER_STATE, 32);
  memory.fill(OUTER_STATE, 0, 32);
  store<u32>(s, <u32>total, PREFIX_ABSORBED);
  store<i32>(s, keySlot, PREFIX_KEY);
  store<i32>(s, tailLen, PREFIX_TAIL_LEN);
  store<i32>(s, tailSlot, PREFIX_TAIL_SLOT);
  if (tailLen > 0) memory.copy(slotPtr(tailSlot), tail, <usize>tailLen);
  return 0;
}

/** Begin a streamed HMAC from a slot code: after the ipad block, or after a prefix's blocks
 *  and its tail bytes. */
export function hmacStart(code: i32): void {
  ctxStartFrom(innerPtr(code), absorbedOf(code));
  const t = tailLenOf(code);
  if (t > 0) shaUpdate(tailPtrOf(code), t);
}

/** Finishes the inner hash and runs the single outer block; result (native words) in OUTER_STATE. */
function finishOuter(code: i32): void {
  ctxFinish();
  writeDigest(CTX_STATE, OUTER_BLOCK);
  store<u32>(OUTER_BLOCK, 0x80, 32);
  memory.fill(OUTER_BLOCK + 36, 0, 24);
  store<u32>(OUTER_BLOCK, bswap<u32>(768), 60); // (64 + 32) * 8 bits
  memory.copy(OUTER_STATE, outerPtr(code), 32);
  compress(OUTER_STATE, OUTER_BLOCK);
}

/** Constant-time: ORs the XOR of all words, no early exit. */
function equalsMac(mac: usize): i32 {
  let diff: u32 = 0;
  for (let t: usize = 0; t < 32; t += 4) {
    diff |= load<u32>(OUTER_STATE + t) ^ bswap<u32>(load<u32>(mac + t));
  }
  return <i32>(diff == 0);
}

export function hmacFinishSign(code: i32, out: usize): void {
  finishOuter(code);
  writeDigest(OUTER_STATE, out);
}

export function hmacFinishVerify(code: i32, mac: usize): i32 {
  finishOuter(code);
  return equalsMac(mac);
}

export function hmacSign(code: i32, ptr: usize, len: i32, out: usize): void {
  hmacStart(code);
  shaUpdate(ptr, len);
  hmacFinishSign(code, out);
}

export function hmacVerify(code: i32, ptr: usize, len: i32, mac: usize): i32 {
  hmacStart(code);
  shaUpdate(ptr, len);
  return hmacFinishVerify(code, mac);
}
