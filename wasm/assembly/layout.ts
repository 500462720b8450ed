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
/** Descriptor = 4 x u32: slot, message pointer, message length, MAC pointer. */
export const BATCH_DESC: usize = memory.data(BATCH_MAX * 16, 16);
export const BATCH_OUT: usize = memory.data(BATCH_MAX, 16);

/** Key slots: 64 bytes each (inner state, outer state as 8 native u32 words). */
export const SLOT_BYTES: i32 = 64;

// @ts-ignore: decorator
@inline export function slotPtr(slot: i32): usize {
  return ((__heap_base + 63) & ~63) + (<usize>slot << 6);
}
