import { describe, expect, test } from "bun:test";
import { heap, L, wasm } from "../../src/wasm/instance.ts";
import { rng } from "./random.ts";

/** The kernel's answer for buf placed at frameIn + shift, as plain offsets. */
function scan(buf: Uint8Array, shift = 0): number[] {
  heap.fill(0x0a, L.frameIn, L.frameIn + shift + buf.length + 512); // LFs around the input must not count
  heap.set(buf, L.frameIn + shift);
  const n = wasm.scanLF(L.frameIn + shift, buf.length, L.frameOut);
  return Array.from(new Uint32Array(heap.buffer, L.frameOut, n));
}

function reference(buf: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a) out.push(i);
  return out;
}

describe("scanLF (WASM kernel)", () => {
  test("an LF at every offset of every length up to 600 bytes (each step size and tail)", () => {
    for (let len = 0; len <= 600; len++) {
      const buf = new Uint8Array(len).fill(0x61);
      for (let at = 0; at < len; at++) {
        buf[at] = 0x0a;
        const got = scan(buf);
        if (got.length !== 1 || got[0] !== at) expect({ len, at, got }).toEqual({ len, at, got: [at] });
        buf[at] = 0x61;
      }
      expect(scan(buf)).toEqual([]);
    }
  });

  test("random LF densities, lengths and alignments match a byte loop", () => {
    const next = rng(0x5ca9);
    for (let round = 0; round < 400; round++) {
      const len = (next() * 3000) | 0;
      const density = [0, 0.001, 0.01, 0.1, 0.5, 1][round % 6]!;
      const buf = new Uint8Array(len);
      for (let i = 0; i < len; i++) buf[i] = next() < density ? 0x0a : (next() * 256) & 0xf5; // 0xf5 mask never makes 0x0a
      const shift = (next() * 16) | 0;
      expect(scan(buf, shift)).toEqual(reference(buf));
    }
  });

  test("a full 64 KiB window of LFs writes one offset per byte", () => {
    const buf = new Uint8Array(L.frameCap).fill(0x0a);
    const got = scan(buf);
    expect(got.length).toBe(L.frameCap);
    expect(got[L.frameCap - 1]).toBe(L.frameCap - 1);
  });
});
