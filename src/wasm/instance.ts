// The one WebAssembly instance per process, loaded synchronously from the embedded
// bytes. Runtime-neutral: only the WebAssembly API and atob.
import { WASM_BASE64 } from "./generated.ts";

interface Exports {
  memory: WebAssembly.Memory;
  layout(): number;
  scanLF(ptr: number, len: number, out: number): number;
  sha256(ptr: number, len: number, out: number): void;
  shaInit(): void;
  shaUpdate(ptr: number, len: number): void;
  shaFinal(out: number): void;
  keySetup(slot: number, key: number, keyLen: number): void;
  keyClear(slot: number): void;
  prefixSave(slot: number, keySlot: number, tailSlot: number, tail: number, tailLen: number): number;
  hmacStart(code: number): void;
  hmacFinishSign(code: number, out: number): void;
  hmacFinishVerify(code: number, mac: number): number;
  hmacSign(code: number, ptr: number, len: number, out: number): void;
  hmacVerify(code: number, ptr: number, len: number, mac: number): number;
  verifyBatch(count: number, mulShifts: number): void;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(WASM_BASE64)), {
  env: {
    abort(): never {
      throw new Error("botgate wasm: abort");
    },
  },
});

export const wasm = instance.exports as unknown as Exports;

const table = new Uint32Array(wasm.memory.buffer, wasm.layout(), 13);
/** Addresses and capacities of the static regions (see wasm/assembly/layout.ts). */
export const L = Object.freeze({
  frameCap: table[0]!,
  frameIn: table[1]!,
  frameOut: table[2]!,
  hashCap: table[3]!,
  hashIn: table[4]!,
  macIn: table[5]!,
  digestOut: table[6]!,
  batchCap: table[7]!,
  batchIn: table[8]!,
  batchMax: table[9]!,
  batchDesc: table[10]!,
  batchOut: table[11]!,
  slotBase: table[12]!,
});

/** Views on linear memory. Live bindings: re-created after memory.grow (which detaches the old buffer). */
export let heap = new Uint8Array(wasm.memory.buffer);
export let heap32 = new Uint32Array(wasm.memory.buffer);

const PAGE = 65536;
const SLOT_BYTES = 64;

/** Grows memory (only the key-slot table at the end grows) so that `slots` slots fit. */
export function ensureSlots(slots: number): void {
  const need = L.slotBase + slots * SLOT_BYTES;
  const have = wasm.memory.buffer.byteLength;
  if (need <= have) return;
  wasm.memory.grow(Math.ceil((need - have) / PAGE));
  heap = new Uint8Array(wasm.memory.buffer);
  heap32 = new Uint32Array(wasm.memory.buffer);
}
