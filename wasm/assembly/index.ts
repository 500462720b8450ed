// Entry point: everything exported here is the WASM module's interface (see src/wasm/instance.ts).
import {
  FRAME_CAP, FRAME_IN, FRAME_OUT, HASH_CAP, HASH_IN, MAC_IN, DIGEST_OUT,
  BATCH_CAP, BATCH_IN, BATCH_MAX, BATCH_DESC, BATCH_OUT, slotPtr,
} from "./layout";

export { scanLF } from "./scan";
export { sha256, shaInit, shaUpdate, shaFinal } from "./sha256";
export { keySetup, keyClear, prefixSave, hmacStart, hmacFinishSign, hmacFinishVerify, hmacSign, hmacVerify } from "./hmac";
export { verifyBatch } from "./batch";

/** Layout table for JS: [FRAME_CAP, FRAME_IN, FRAME_OUT, HASH_CAP, HASH_IN, MAC_IN, DIGEST_OUT,
 *  BATCH_CAP, BATCH_IN, BATCH_MAX, BATCH_DESC, BATCH_OUT, SLOT_BASE] as u32 at the returned pointer. */
const LAYOUT: usize = memory.data(13 * 4, 16);
export function layout(): usize {
  store<u32>(LAYOUT, FRAME_CAP, 0);
  store<u32>(LAYOUT, <u32>FRAME_IN, 4);
  store<u32>(LAYOUT, <u32>FRAME_OUT, 8);
  store<u32>(LAYOUT, HASH_CAP, 12);
  store<u32>(LAYOUT, <u32>HASH_IN, 16);
  store<u32>(LAYOUT, <u32>MAC_IN, 20);
  store<u32>(LAYOUT, <u32>DIGEST_OUT, 24);
  store<u32>(LAYOUT, BATCH_CAP, 28);
  store<u32>(LAYOUT, <u32>BATCH_IN, 32);
  store<u32>(LAYOUT, BATCH_MAX, 36);
  store<u32>(LAYOUT, <u32>BATCH_DESC, 40);
  store<u32>(LAYOUT, <u32>BATCH_OUT, 44);
  store<u32>(LAYOUT, <u32>slotPtr(0), 48);
  return LAYOUT;
}
