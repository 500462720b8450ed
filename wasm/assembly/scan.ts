// SIMD newline scan: writes the offset of every LF (0x0a) in [ptr, ptr+len) to out as u32.
// 256 bytes per loop step, as two 128-byte halves: eight i8x16.eq compares OR-ed together,
// so the common case (no LF in 128 bytes) costs one any_true branch; a hit walks each 64-byte
// group's mask with ctz. Why this shape: JavaScriptCore emits every v128 op as its own
// instruction, so the loop's fixed cost is only amortised by a wide step, while one branch
// over 256 bytes keeps 16 vectors live and spills; this measured ~1.5x faster than 64-byte
// steps on Bun, and V8 is no slower (docs/performance.md, round 5).

// @ts-ignore: decorator
@inline function mask64(e0: v128, e1: v128, e2: v128, e3: v128): u64 {
  return <u64><u32>i8x16.bitmask(e0) | (<u64><u32>i8x16.bitmask(e1) << 16) |
    (<u64><u32>i8x16.bitmask(e2) << 32) | (<u64><u32>i8x16.bitmask(e3) << 48);
}

/** Writes at + the index of each set bit of m (m != 0) from o; returns the next o. */
// @ts-ignore: decorator
@inline function emit(o: usize, m: u64, at: i32): usize {
  do {
    store<u32>(o, at + <i32>ctz(m));
    o += 4;
    m &= m - 1;
  } while (m != 0);
  return o;
}

/** 128 bytes from p (offset at): eight compares, one any_true branch, masks only on a hit. */
// @ts-ignore: decorator
@inline function scan128(p: usize, nl: v128, o: usize, at: i32): usize {
  const a0 = i8x16.eq(v128.load(p), nl), a1 = i8x16.eq(v128.load(p, 16), nl);
  const a2 = i8x16.eq(v128.load(p, 32), nl), a3 = i8x16.eq(v128.load(p, 48), nl);
  const b0 = i8x16.eq(v128.load(p, 64), nl), b1 = i8x16.eq(v128.load(p, 80), nl);
  const b2 = i8x16.eq(v128.load(p, 96), nl), b3 = i8x16.eq(v128.load(p, 112), nl);
  if (v128.any_true(v128.or(v128.or(v128.or(a0, a1), v128.or(a2, a3)), v128.or(v128.or(b0, b1), v128.or(b2, b3))))) {
    let m = mask64(a0, a1, a2, a3);
    if (m != 0) o = emit(o, m, at);
    m = mask64(b0, b1, b2, b3);
    if (m != 0) o = emit(o, m, at + 64);
  }
  return o;
}

export function scanLF(ptr: usize, len: i32, out: usize): i32 {
  const nl = i8x16.splat(10);
  let o = out;
  let p = ptr;
  const end256 = ptr + <usize>(len & ~255);
  while (p < end256) {
    o = scan128(p, nl, o, <i32>(p - ptr));
    o = scan128(p + 128, nl, o, <i32>(p - ptr) + 128);
    p += 256;
  }
  const end64 = ptr + <usize>(len & ~63);
  while (p < end64) {
    const m = mask64(i8x16.eq(v128.load(p), nl), i8x16.eq(v128.load(p, 16), nl),
      i8x16.eq(v128.load(p, 32), nl), i8x16.eq(v128.load(p, 48), nl));
    if (m != 0) o = emit(o, m, <i32>(p - ptr));
    p += 64;
  }
  const end16 = ptr + <usize>(len & ~15);
  while (p < end16) {
    const m = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(p), nl));
    if (m != 0) o = emit(o, m, <i32>(p - ptr));
    p += 16;
  }
  const end = ptr + <usize>len;
  while (p < end) {
    if (load<u8>(p) == 10) {
      store<u32>(o, <i32>(p - ptr));
      o += 4;
    }
    p++;
  }
  return <i32>((o - out) >> 2);
}
