// Static regions of linear memory. Everything here is fixed at compile time;
// only the HMAC key-slot table (which starts at __heap_base) grows, and JS grows it.

/** Framer input window: JS copies up to FRAME_CAP bytes of a chunk here. */
export const FRAME_CAP: i32 = 65536;
export const FRAME_IN: usize = memory.data(FRAME_CAP + 64, 16);
/** LF offsets written by scanLF, one u32 per LF (worst case: every byte). */
export const FRAME_OUT: usize = memory.data(FRAME_CAP * 4, 16);

/** Input for sha256 / hmac single calls (larger inputs are streamed in pieces). */
export const HASH_CAP: i32 = 65536;
export const HASH_IN: usize = memory.data(HASH_CAP, 16);
/** 32-byte MAC to compare against, and 32-byte digest output. */
export const MAC_IN: usize = memory.data(32, 16);
export const DIGEST_OUT: usize = memory.data(32, 16);

/** Batch verify: packed messages + MACs, descriptors, one result byte per item. */
export const BATCH_CAP: i32 = 262144;
export const BATCH_IN: usize = memory.data(BATCH_CAP, 16);
export const BATCH_MAX: i32 = 4096;
/** Descriptor = 4 x u32: slot code (key or prefix slot), message pointer, message length, MAC pointer. */
export const BATCH_DESC: usize = memory.data(BATCH_MAX * 16, 16);
export const BATCH_OUT: usize = memory.data(BATCH_MAX, 16);

/** Key slots: 64 bytes each (inner state, outer state as 8 native u32 words).
 *  A prefix slot (same table, same size) holds the inner chaining state after the ipad block
 *  and the whole 64-byte blocks of a message prefix: [0, 32) state as native words, [32, 36)
 *  bytes absorbed so far (64 + 64 * blocks, u32), [36, 40) the key slot whose outer state
 *  finishes the HMAC, [40, 44) the prefix's unabsorbed tail length (0..63, u32), [44, 48) the
 *  slot holding the tail bytes (a second slot of the table; unused when the length is 0).
 *  Every hash from a prefix slot absorbs the tail first, so messages carry only the rest. */
export const SLOT_BYTES: i32 = 64;
export const PREFIX_ABSORBED: usize = 32;
export const PREFIX_KEY: usize = 36;
export const PREFIX_TAIL_LEN: usize = 40;
export const PREFIX_TAIL_SLOT: usize = 44;

/** A slot code names a key slot (>= 0) or, with the top bit set, a prefix slot. It is what
 *  sign/verify take and what a batch descriptor holds. */
export const PREFIX_FLAG: i32 = i32.MIN_VALUE; // 0x80000000

// @ts-ignore: decorator
@inline export function slotPtr(slot: i32): usize {
  return ((__heap_base + 63) & ~63) + (<usize>slot << 6);
}

/** Inner chaining state a message starts from (the ipad state, or a prefix's midstate). */
// @ts-ignore: decorator
@inline export function innerPtr(code: i32): usize {
  return slotPtr(code & ~PREFIX_FLAG);
}

/** Bytes the inner hash absorbed before the message: 64 (ipad) or the prefix's count. */
// @ts-ignore: decorator
@inline export function absorbedOf(code: i32): u32 {
  return code < 0 ? load<u32>(slotPtr(code & ~PREFIX_FLAG), PREFIX_ABSORBED) : 64;
}

/** Prefix tail bytes the message continues (0 for a key slot). */
// @ts-ignore: decorator
@inline export function tailLenOf(code: i32): i32 {
  return code < 0 ? load<i32>(slotPtr(code & ~PREFIX_FLAG), PREFIX_TAIL_LEN) : 0;
}

/** Where a prefix slot's tail bytes are (only meaningful if tailLenOf(code) > 0). */
// @ts-ignore: decorator
@inline export function tailPtrOf(code: i32): usize {
  return slotPtr(load<i32>(slotPtr(code & ~PREFIX_FLAG), PREFIX_TAIL_SLOT));
}

/** Outer (opad) state of the key behind the code. */
// @ts-ignore: decorator
@inline export function outerPtr(code: i32): usize {
  const key = code < 0 ? load<i32>(slotPtr(code & ~PREFIX_FLAG), PREFIX_KEY) : code;
  return slotPtr(key) + 32;
}
