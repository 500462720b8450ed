// Resumable LF line framer. The newline scan runs in WASM (SIMD); line assembly and
// the (tiny) per-session state live in JS. An idle framer holds no buffer.
import { heap, heap32, L, wasm } from "./instance.ts";

export interface LineSink {
  /**
   * One complete line, LF removed and a trailing CR removed; never empty. Read-only, and
   * valid only during this call (usually a view of the WASM copy, which the next push
   * overwrites, and which a WASM memory growth inside the call detaches): copy it to keep it.
   */
  line(bytes: Uint8Array): void;
  /** A line exceeded maxLineBytes; called once per such line, as soon as it is detected. */
  oversize(byteLength: number): void;
}

export const DEFAULT_MAX_LINE_BYTES = 128 * 1024;
/** The scan window is shared; a push started from inside a sink scans in JS instead. */
let scanBusy = false;
/** `base` of a push that scans in JS: its lines are views of the chunk. */
const NO_WINDOW = -1;

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
    let base = NO_WINDOW;
    if (scanBusy) {
      for (let p = chunk.indexOf(10); p !== -1; p = chunk.indexOf(10, start)) {
        start = this.#endLine(chunk, start, p, sink, NO_WINDOW);
        if (this.#epoch !== epoch) return;
      }
    } else {
      // Even a small chunk is copied: its lines are then views of WASM memory, which
      // are cheap to make, while JavaScriptCore's first subarray of a runtime's chunk
      // materialises its ArrayBuffer (~0.5 us, more than the copy and the scan).
      scanBusy = true;
      try {
        for (base = 0; base < n; base += L.frameCap) {
          const end = Math.min(n, base + L.frameCap);
          const count = copyAndScan(chunk, base, end);
          const o = L.frameOut >>> 2;
          for (let k = 0; k < count; k++) {
            // heap32 is re-read every time: a sink may grow memory (new HmacKey).
            start = this.#endLine(chunk, start, base + heap32[o + k]!, sink, base);
            if (this.#epoch !== epoch) return;
          }
          if (end === n) break; // base stays the last window's, for the tail
        }
      } finally {
        scanBusy = false;
      }
    }
    this.#keepTail(chunk, start, sink, base);
  }

  /** chunk[s, e): from the WASM copy when it lies in the current window (`base`), else a view of the chunk. */
  #bytes(chunk: Uint8Array, s: number, e: number, base: number): Uint8Array {
    // `heap` is read here, not earlier: a sink may have grown memory (growth keeps the contents).
    return base !== NO_WINDOW && s >= base ? heap.subarray(L.frameIn + s - base, L.frameIn + e - base) : chunk.subarray(s, e);
  }

  /** Handles the LF at chunk[p]; the line began at chunk[start] (plus the carry). Returns p + 1. */
  #endLine(chunk: Uint8Array, start: number, p: number, sink: LineSink, base: number): number {
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
      line = this.#bytes(chunk, start, p, base); // zero-copy
    } else {
      const buf = this.#reserve(len);
      buf.set(this.#bytes(chunk, start, p, base), carryLen);
      line = buf.subarray(0, len); // handed to the sink; the framer forgets it
      this.#carry = null;
      this.#carryLen = 0;
    }
    let end = line.length;
    if (end > 0 && line[end - 1] === 13) end--;
    if (end > 0) sink.line(end === line.length ? line : line.subarray(0, end));
    return p + 1;
  }

  #keepTail(chunk: Uint8Array, start: number, sink: LineSink, base: number): void {
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
    this.#reserve(total).set(this.#bytes(chunk, start, chunk.length, base), this.#carryLen);
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
