// SIMD newline scan: writes the offset of every LF (0x0a) in [ptr, ptr+len) to out as u32.
// 64 bytes per step: four i8x16.eq compares OR-ed together, so the common case
// (no LF in 64 bytes) costs one any_true branch; hits are walked with ctz.

export function scanLF(ptr: usize, len: i32, out: usize): i32 {
  const nl = i8x16.splat(10);
  let n: i32 = 0;
  let i: i32 = 0;
  const end64 = len & ~63;
  while (i < end64) {
    const p = ptr + <usize>i;
    const e0 = i8x16.eq(v128.load(p), nl);
    const e1 = i8x16.eq(v128.load(p, 16), nl);
    const e2 = i8x16.eq(v128.load(p, 32), nl);
    const e3 = i8x16.eq(v128.load(p, 48), nl);
    if (v128.any_true(v128.or(v128.or(e0, e1), v128.or(e2, e3)))) {
      let m: u64 =
        <u64><u32>i8x16.bitmask(e0) |
        (<u64><u32>i8x16.bitmask(e1) << 16) |
        (<u64><u32>i8x16.bitmask(e2) << 32) |
        (<u64><u32>i8x16.bitmask(e3) << 48);
      while (m != 0) {
        store<u32>(out + (<usize>n << 2), i + <i32>ctz(m));
        n++;
        m &= m - 1;
      }
    }
    i += 64;
  }
  const end16 = len & ~15;
  while (i < end16) {
    let m = <u32>i8x16.bitmask(i8x16.eq(v128.load(ptr + <usize>i), nl));
    while (m != 0) {
      store<u32>(out + (<usize>n << 2), i + <i32>ctz(m));
      n++;
      m &= m - 1;
    }
    i += 16;
  }
  while (i < len) {
    if (load<u8>(ptr + <usize>i) == 10) {
      store<u32>(out + (<usize>n << 2), i);
      n++;
    }
    i++;
  }
  return n;
}
