// HMAC-SHA256 (RFC 2104) with precomputed pad states kept in key slots.
import { slotPtr } from "./layout";
import { compress, ctxStartFrom, shaInit, ctxFinish, shaUpdate, writeDigest, CTX_STATE } from "./sha256";

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

export function keyClear(slot: i32): void {
  memory.fill(slotPtr(slot), 0, 64);
}

/** Begin a streamed HMAC: the inner state already consumed the 64-byte ipad block. */
export function hmacStart(slot: i32): void {
  ctxStartFrom(slotPtr(slot), 64);
}

/** Finishes the inner hash and runs the single outer block; result (native words) in OUTER_STATE. */
function finishOuter(slot: i32): void {
  ctxFinish();
  writeDigest(CTX_STATE, OUTER_BLOCK);
  store<u32>(OUTER_BLOCK, 0x80, 32);
  memory.fill(OUTER_BLOCK + 36, 0, 24);
  store<u32>(OUTER_BLOCK, bswap<u32>(768), 60); // (64 + 32) * 8 bits
  memory.copy(OUTER_STATE, slotPtr(slot) + 32, 32);
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

export function hmacFinishSign(slot: i32, out: usize): void {
  finishOuter(slot);
  writeDigest(OUTER_STATE, out);
}

export function hmacFinishVerify(slot: i32, mac: usize): i32 {
  finishOuter(slot);
  return equalsMac(mac);
}

export function hmacSign(slot: i32, ptr: usize, len: i32, out: usize): void {
  hmacStart(slot);
  shaUpdate(ptr, len);
  hmacFinishSign(slot, out);
}

export function hmacVerify(slot: i32, ptr: usize, len: i32, mac: usize): i32 {
  hmacStart(slot);
  shaUpdate(ptr, len);
  return hmacFinishVerify(slot, mac);
}
