// Scalar SHA-256 (FIPS 180-4) with one streaming context. State words are kept
// as native u32; message words are big-endian and byte-swapped on load.

export const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
], 16);

const IV: usize = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
], 16);

const W: usize = memory.data(64 * 4, 16);

// @ts-ignore: decorator
@inline function bigS0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
// @ts-ignore: decorator
@inline function bigS1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
// @ts-ignore: decorator
@inline function ch(e: u32, f: u32, g: u32): u32 { return g ^ (e & (f ^ g)); }
// @ts-ignore: decorator
@inline function maj(a: u32, b: u32, c: u32): u32 { return (a & b) | (c & (a | b)); }
// @ts-ignore: decorator
@inline function wk(t: usize): u32 { return load<u32>(W + (t << 2)) + load<u32>(K + (t << 2)); }

/** One compression of the 64-byte block at `block` into the 8-word state at `st`. */
export function compress(st: usize, block: usize): void {
  for (let t: usize = 0; t < 64; t += 16) {
    store<u32>(W + t, bswap<u32>(load<u32>(block + t)), 0);
    store<u32>(W + t, bswap<u32>(load<u32>(block + t, 4)), 4);
    store<u32>(W + t, bswap<u32>(load<u32>(block + t, 8)), 8);
    store<u32>(W + t, bswap<u32>(load<u32>(block + t, 12)), 12);
  }
  // Message schedule, two words per iteration.
  for (let q: usize = W; q < W + 192; q += 8) { // q points at W[t - 16]
    const w15 = load<u32>(q, 4), w14 = load<u32>(q, 8);
    const w2 = load<u32>(q, 56), w1 = load<u32>(q, 60);
    const x0 = load<u32>(q) + (rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3)) + load<u32>(q, 36) +
      (rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10));
    const x1 = w15 + (rotr<u32>(w14, 7) ^ rotr<u32>(w14, 18) ^ (w14 >>> 3)) + load<u32>(q, 40) +
      (rotr<u32>(w1, 17) ^ rotr<u32>(w1, 19) ^ (w1 >>> 10));
    store<u32>(q, x0, 64);
    store<u32>(q, x1, 68);
  }
  let a = load<u32>(st, 0), b = load<u32>(st, 4), c = load<u32>(st, 8), d = load<u32>(st, 12);
  let e = load<u32>(st, 16), f = load<u32>(st, 20), g = load<u32>(st, 24), h = load<u32>(st, 28);
  // 8 rounds per iteration with the variables renamed instead of rotated.
  for (let t: usize = 0; t < 64; t += 8) {
    d += (h += bigS1(e) + ch(e, f, g) + wk(t + 0)); h += bigS0(a) + maj(a, b, c);
    c += (g += bigS1(d) + ch(d, e, f) + wk(t + 1)); g += bigS0(h) + maj(h, a, b);
    b += (f += bigS1(c) + ch(c, d, e) + wk(t + 2)); f += bigS0(g) + maj(g, h, a);
    a += (e += bigS1(b) + ch(b, c, d) + wk(t + 3)); e += bigS0(f) + maj(f, g, h);
    h += (d += bigS1(a) + ch(a, b, c) + wk(t + 4)); d += bigS0(e) + maj(e, f, g);
    g += (c += bigS1(h) + ch(h, a, b) + wk(t + 5)); c += bigS0(d) + maj(d, e, f);
    f += (b += bigS1(g) + ch(g, h, a) + wk(t + 6)); b += bigS0(c) + maj(c, d, e);
    e += (a += bigS1(f) + ch(f, g, h) + wk(t + 7)); a += bigS0(b) + maj(b, c, d);
  }
  store<u32>(st, load<u32>(st, 0) + a, 0);
  store<u32>(st, load<u32>(st, 4) + b, 4);
  store<u32>(st, load<u32>(st, 8) + c, 8);
  store<u32>(st, load<u32>(st, 12) + d, 12);
  store<u32>(st, load<u32>(st, 16) + e, 16);
  store<u32>(st, load<u32>(st, 20) + f, 20);
  store<u32>(st, load<u32>(st, 24) + g, 24);
  store<u32>(st, load<u32>(st, 28) + h, 28);
}

// ---- the streaming context (one per instance; JS never interleaves two streams) ----
export const CTX_STATE: usize = memory.data(32, 16);
const CTX_BUF: usize = memory.data(64, 16);
let ctxBuffered: i32 = 0;
let ctxTotal: u64 = 0;

/** Start a stream from an explicit state (IV or an HMAC pad state) that already consumed `consumed` bytes. */
export function ctxStartFrom(state: usize, consumed: u64): void {
  memory.copy(CTX_STATE, state, 32);
  ctxBuffered = 0;
  ctxTotal = consumed;
}

/** Saves the chaining state to `dst` and returns the bytes absorbed, or -1 if a partial
 *  block is still buffered (the state alone would not describe the stream). */
export function ctxSave(dst: usize): i64 {
  if (ctxBuffered != 0) return -1;
  memory.copy(dst, CTX_STATE, 32);
  return <i64>ctxTotal;
}

export function shaInit(): void {
  ctxStartFrom(IV, 0);
}

export function shaUpdate(ptr: usize, len: i32): void {
  ctxTotal += <u64>len;
  let i: i32 = 0;
  if (ctxBuffered > 0) {
    const take = min(64 - ctxBuffered, len);
    memory.copy(CTX_BUF + <usize>ctxBuffered, ptr, take);
    ctxBuffered += take;
    i = take;
    if (ctxBuffered < 64) return;
    compress(CTX_STATE, CTX_BUF);
    ctxBuffered = 0;
  }
  while (len - i >= 64) {
    compress(CTX_STATE, ptr + <usize>i);
    i += 64;
  }
  if (i < len) {
    memory.copy(CTX_BUF, ptr + <usize>i, len - i);
    ctxBuffered = len - i;
  }
}

/** Pads, compresses the tail and leaves the digest as native words in CTX_STATE. */
export function ctxFinish(): void {
  const bits = ctxTotal << 3;
  store<u8>(CTX_BUF + <usize>ctxBuffered, 0x80);
  let n = ctxBuffered + 1;
  if (n > 56) {
    memory.fill(CTX_BUF + <usize>n, 0, 64 - n);
    compress(CTX_STATE, CTX_BUF);
    n = 0;
  }
  memory.fill(CTX_BUF + <usize>n, 0, 56 - n);
  store<u64>(CTX_BUF, bswap<u64>(bits), 56);
  compress(CTX_STATE, CTX_BUF);
  ctxBuffered = 0;
}

/** Writes 8 native state words as 32 big-endian digest bytes. */
export function writeDigest(st: usize, out: usize): void {
  for (let t: usize = 0; t < 32; t += 4) store<u32>(out + t, bswap<u32>(load<u32>(st + t)));
}

export function shaFinal(out: usize): void {
  ctxFinish();
  writeDigest(CTX_STATE, out);
}

export function sha256(ptr: usize, len: i32, out: usize): void {
  shaInit();
  shaUpdate(ptr, len);
  shaFinal(out);
}
