// Resumable LF line framer. The newline scan runs in WASM (SIMD); line assembly and
// the (tiny) per-session state live in JS. An idle framer holds no buffer.
import { heap, heap32, L, wasm } from "./instance.ts";

export interface LineSink {
  /** One complete line, LF removed and a trailing CR removed; never empty. Read-only. */
  line(bytes: Uint8Array): void;
  /** A line exceeded maxLineBytes; called once per such line, as soon as it is detected. */
  oversize(byteLength: number): void;
}

export const DEFAULT_MAX_LINE_BYTES = 128 * 1024;
/** Below this, copying into WASM costs more than a JS indexOf scan. */
const SMALL_CHUNK = 256;
/** The scan output region is shared; a push started from inside a sink scans in JS instead. */
let scanBusy = false;

/** Copies chunk[base, end) (at most L.frameCap bytes) into the WASM window and scans it;
 *  the LF offsets (relative to base) are at L.frameOut. Exported for the micro-benchmark, so
 *  that "scan including the copy" measures exactly what push() does. */
export function copyAndScan(chunk: Uint8Array, base: number, end: number): number {
  heap.set(base === 0 && end === chunk.length ? chunk : chunk.subarray(base, end), L.frameIn);
  return wasm.scanLF(L.frameIn, end - base, L.frameOut);
}

export class LineFramer {
  readonly maxLineBytes: number;
  #carry: Uint8Array | null = null; // partial line (capacity may exceed #carryLen)
  #carryLen = 0;
  #discarding = false; // inside an oversize line: drop bytes up to the next LF
  #epoch = 0; // bumped by reset(), so a sink that resets ends the current push

  constructor(maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
  }

  get bufferedBytes(): number {
    return this.#carryLen;
  }

  reset(): void {
    this.#carry = null;
    this.#carryLen = 0;
    this.#discarding = false;
    this.#epoch++;
  }

  push(chunk: Uint8Array, sink: LineSink): void {
    const n = chunk.length;
    if (n === 0) return;
    const epoch = this.#epoch;
    let start = 0;
    if (n < SMALL_CHUNK || scanBusy) {
      for (let p = chunk.indexOf(10); p !== -1; p = chunk.indexOf(10, start)) {
        start = this.#endLine(chunk, start, p, sink);
        if (this.#epoch !== epoch) return;
      }
    } else {
      scanBusy = true;
      try {
        for (let base = 0; base < n; base += L.frameCap) {
          const end = Math.min(n, base + L.frameCap);
          const count = copyAndScan(chunk, base, end);
          const o = L.frameOut >>> 2;
          for (let k = 0; k < count; k++) {
            // heap32 is re-read every time: a sink may grow memory (new HmacKey).
            start = this.#endLine(chunk, start, base + heap32[o + k]!, sink);
            if (this.#epoch !== epoch) return;
          }
        }
      } finally {
        scanBusy = false;
      }
    }
    this.#keepTail(chunk, start, sink);
  }

  /** Handles the LF at chunk[p]; the line began at chunk[start] (plus the carry). Returns p + 1. */
  #endLine(chunk: Uint8Array, start: number, p: number, sink: LineSink): number {
    if (this.#discarding) {
      this.#discarding = false;
      return p + 1;
    }
    const carryLen = this.#carryLen;
    const len = carryLen + (p - start);
    if (len > this.maxLineBytes) {
      this.#carry = null;
      this.#carryLen = 0;
      sink.oversize(len);
      return p + 1;
    }
    let line: Uint8Array;
    if (carryLen === 0) {
      line = chunk.subarray(start, p); // zero-copy
    } else {
      const buf = this.#reserve(len);
      buf.set(chunk.subarray(start, p), carryLen);
      line = buf.subarray(0, len); // handed to the sink; the framer forgets it
      this.#carry = null;
      this.#carryLen = 0;
    }
    let end = line.length;
    if (end > 0 && line[end - 1] === 13) end--;
    if (end > 0) sink.line(end === line.length ? line : line.subarray(0, end));
    return p + 1;
  }

  #keepTail(chunk: Uint8Array, start: number, sink: LineSink): void {
    const rest = chunk.length - start;
    if (this.#discarding || rest === 0) return;
    const total = this.#carryLen + rest;
    if (total > this.maxLineBytes) {
      this.#carry = null;
      this.#carryLen = 0;
      this.#discarding = true;
      sink.oversize(total);
      return;
    }
    this.#reserve(total).set(chunk.subarray(start), this.#carryLen);
    this.#carryLen = total;
  }

  /** Carry buffer with room for `need` bytes (need <= maxLineBytes); grows by doubling. */
  #reserve(need: number): Uint8Array {
    const old = this.#carry;
    if (old !== null && old.length >= need) return old;
    const cap = Math.min(this.maxLineBytes, Math.max(need, 64, old === null ? 0 : old.length * 2));
    const buf = new Uint8Array(cap);
    if (old !== null) buf.set(old.subarray(0, this.#carryLen));
    this.#carry = buf;
    return buf;
  }
}
