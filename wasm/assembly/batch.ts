// Batch HMAC-SHA256 verify, 4 messages per SHA-256 compression using i32x4 lanes.
// Each lane runs its own item (inner blocks, then the outer block) and picks up the
// next item as soon as it finishes, so messages of different lengths keep all lanes busy.
// An item's slot code is a key slot (inner hash starts after the ipad block) or a prefix slot
// (starts from the prefix's midstate; the padding length counts the absorbed bytes too). The
// message hashed is the prefix slot's tail bytes (kept in WASM memory) followed by the item's
// bytes; only the first block can hold tail bytes (tail < 64), so it alone is assembled.
import { BATCH_DESC, BATCH_OUT, innerPtr, outerPtr, absorbedOf, tailLenOf, tailPtrOf } from "./layout";
import { K } from "./sha256";
import { hmacVerify } from "./hmac";

const STATE4: usize = memory.data(8 * 16, 16);   // word t of lane l at STATE4 + t*16 + l*4
const W4: usize = memory.data(64 * 16, 16);
const LANE_BUF: usize = memory.data(4 * 128, 16); // padded last block / outer block per lane (64 B + 64 B of room)
const DUMMY: usize = memory.data(64, 16);
const LANE_ITEM: usize = memory.data(16, 16);     // i32 item index, -1 = idle
const LANE_BLOCK: usize = memory.data(16, 16);    // next block number; == nb means outer block
const LANE_NB: usize = memory.data(16, 16);       // inner block count for the message
const LANE_ABS: usize = memory.data(16, 16);      // bytes absorbed before the message (u32)
const LANE_TAIL: usize = memory.data(16, 16);     // prefix tail bytes before the item's bytes

// Two code shapes for the same rotation; the engine decides which is cheaper (see verifyBatch).
//   M = u8:  i32x4.shl + i32x4.shr_u. V8 emits both with an immediate count.
//   M = u16: the left shift as i32x4.mul by a power of two. JavaScriptCore lowers every v128
//            shift through a general-purpose register (mov, and 31, movq xmm); trading half of
//            them for multiplies balances the two bottlenecks. (Replacing the right shifts too,
//            by byte swizzles around a multiply, was slower: the multiplier becomes the limit.)
// @ts-ignore: decorator
@inline function shl4<M>(x: v128, n: i32): v128 {
  if (sizeof<M>() == 1) return i32x4.shl(x, n);
  return i32x4.mul(x, i32x4.splat(1 << n));
}

// @ts-ignore: decorator
@inline function rotr4<M>(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), shl4<M>(x, 32 - n));
}

// @ts-ignore: decorator
@inline function bigS0<M>(x: v128): v128 { return v128.xor(v128.xor(rotr4<M>(x, 2), rotr4<M>(x, 13)), rotr4<M>(x, 22)); }
// @ts-ignore: decorator
@inline function bigS1<M>(x: v128): v128 { return v128.xor(v128.xor(rotr4<M>(x, 6), rotr4<M>(x, 11)), rotr4<M>(x, 25)); }
// @ts-ignore: decorator
@inline function ch(e: v128, f: v128, g: v128): v128 { return v128.bitselect(f, g, e); }

function compress4<M>(p0: usize, p1: usize, p2: usize, p3: usize): void {
  const bswap = i8x16(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  for (let g: usize = 0; g < 64; g += 16) {
    const a = i8x16.swizzle(v128.load(p0 + g), bswap);
    const b = i8x16.swizzle(v128.load(p1 + g), bswap);
    const c = i8x16.swizzle(v128.load(p2 + g), bswap);
    const d = i8x16.swizzle(v128.load(p3 + g), bswap);
    const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5);
    const t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
    const w = W4 + (g << 2);
    v128.store(w, i32x4.shuffle(t0, t2, 0, 1, 4, 5), 0);
    v128.store(w, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
    v128.store(w, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
    v128.store(w, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
  }
  for (let p: usize = W4; p < W4 + 768; p += 16) { // p points at W[t - 16]
    const w15 = v128.load(p, 16);
    const w2 = v128.load(p, 224);
    const s0 = v128.xor(v128.xor(rotr4<M>(w15, 7), rotr4<M>(w15, 18)), i32x4.shr_u(w15, 3));
    const s1 = v128.xor(v128.xor(rotr4<M>(w2, 17), rotr4<M>(w2, 19)), i32x4.shr_u(w2, 10));
    v128.store(p, i32x4.add(i32x4.add(v128.load(p), s0), i32x4.add(v128.load(p, 144), s1)), 256);
  }
  let a = v128.load(STATE4, 0), b = v128.load(STATE4, 16), c = v128.load(STATE4, 32), d = v128.load(STATE4, 48);
  let e = v128.load(STATE4, 64), f = v128.load(STATE4, 80), g = v128.load(STATE4, 96), h = v128.load(STATE4, 112);
  // 8 rounds per iteration with the variables renamed instead of rotated. Maj(x, y, z) is
  // y ^ ((x ^ y) & (y ^ z)), and y ^ z is the previous round's x ^ y.
  let bc = v128.xor(b, c), ab = bc;
  for (let t: usize = 0; t < 64; t += 8) {
    const pw = W4 + (t << 4), pk = K + (t << 2);
    d = i32x4.add(d, h = i32x4.add(i32x4.add(h, bigS1<M>(e)), i32x4.add(ch(e, f, g), i32x4.add(v128.load(pw, 0), v128.load32_splat(pk, 0)))));
    ab = v128.xor(a, b);
    h = i32x4.add(h, i32x4.add(bigS0<M>(a), v128.xor(b, v128.and(ab, bc))));
    c = i32x4.add(c, g = i32x4.add(i32x4.add(g, bigS1<M>(d)), i32x4.add(ch(d, e, f), i32x4.add(v128.load(pw, 16), v128.load32_splat(pk, 4)))));
    bc = v128.xor(h, a);
    g = i32x4.add(g, i32x4.add(bigS0<M>(h), v128.xor(a, v128.and(bc, ab))));
    b = i32x4.add(b, f = i32x4.add(i32x4.add(f, bigS1<M>(c)), i32x4.add(ch(c, d, e), i32x4.add(v128.load(pw, 32), v128.load32_splat(pk, 8)))));
    ab = v128.xor(g, h);
    f = i32x4.add(f, i32x4.add(bigS0<M>(g), v128.xor(h, v128.and(ab, bc))));
    a = i32x4.add(a, e = i32x4.add(i32x4.add(e, bigS1<M>(b)), i32x4.add(ch(b, c, d), i32x4.add(v128.load(pw, 48), v128.load32_splat(pk, 12)))));
    bc = v128.xor(f, g);
    e = i32x4.add(e, i32x4.add(bigS0<M>(f), v128.xor(g, v128.and(bc, ab))));
    h = i32x4.add(h, d = i32x4.add(i32x4.add(d, bigS1<M>(a)), i32x4.add(ch(a, b, c), i32x4.add(v128.load(pw, 64), v128.load32_splat(pk, 16)))));
    ab = v128.xor(e, f);
    d = i32x4.add(d, i32x4.add(bigS0<M>(e), v128.xor(f, v128.and(ab, bc))));
    g = i32x4.add(g, c = i32x4.add(i32x4.add(c, bigS1<M>(h)), i32x4.add(ch(h, a, b), i32x4.add(v128.load(pw, 80), v128.load32_splat(pk, 20)))));
    bc = v128.xor(d, e);
    c = i32x4.add(c, i32x4.add(bigS0<M>(d), v128.xor(e, v128.and(bc, ab))));
    f = i32x4.add(f, b = i32x4.add(i32x4.add(b, bigS1<M>(g)), i32x4.add(ch(g, h, a), i32x4.add(v128.load(pw, 96), v128.load32_splat(pk, 24)))));
    ab = v128.xor(c, d);
    b = i32x4.add(b, i32x4.add(bigS0<M>(c), v128.xor(d, v128.and(ab, bc))));
    e = i32x4.add(e, a = i32x4.add(i32x4.add(a, bigS1<M>(f)), i32x4.add(ch(f, g, h), i32x4.add(v128.load(pw, 112), v128.load32_splat(pk, 28)))));
    bc = v128.xor(b, c);
    a = i32x4.add(a, i32x4.add(bigS0<M>(b), v128.xor(c, v128.and(bc, ab))));
  }
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 0), a), 0);
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 16), b), 16);
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 32), c), 32);
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 48), d), 48);
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 64), e), 64);
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 80), f), 80);
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 96), g), 96);
  v128.store(STATE4, i32x4.add(v128.load(STATE4, 112), h), 112);
}

// @ts-ignore: decorator
@inline function laneGet(base: usize, l: i32): i32 { return load<i32>(base + (<usize>l << 2)); }
// @ts-ignore: decorator
@inline function laneSet(base: usize, l: i32, v: i32): void { store<i32>(base + (<usize>l << 2), v); }

function setLaneState(l: i32, src: usize): void {
  const dst = STATE4 + (<usize>l << 2);
  for (let t: usize = 0; t < 8; t++) store<u32>(dst + (t << 4), load<u32>(src + (t << 2)));
}

function assign(l: i32, item: i32, count: i32): void {
  if (item >= count) { laneSet(LANE_ITEM, l, -1); return; }
  laneSet(LANE_ITEM, l, item);
  laneSet(LANE_BLOCK, l, 0);
  const desc = BATCH_DESC + (<usize>item << 4);
  const code = load<i32>(desc, 0);
  const t = tailLenOf(code);
  const len = t + load<i32>(desc, 8);
  laneSet(LANE_NB, l, (len + 9 + 63) >> 6);
  laneSet(LANE_ABS, l, <i32>absorbedOf(code));
  laneSet(LANE_TAIL, l, t);
}

/** Sets the lane's chaining state if the block starts a hash, and returns the block pointer. */
function prepare(l: i32): usize {
  const item = laneGet(LANE_ITEM, l);
  if (item < 0) return DUMMY;
  const desc = BATCH_DESC + (<usize>item << 4);
  const code = load<i32>(desc, 0);
  const b = laneGet(LANE_BLOCK, l);
  const nb = laneGet(LANE_NB, l);
  const buf = LANE_BUF + (<usize>l << 7);
  if (b == nb) { // outer block (built by finish())
    setLaneState(l, outerPtr(code));
    return buf;
  }
  const t = laneGet(LANE_TAIL, l);
  const len = t + load<i32>(desc, 8); // tail ++ item bytes
  const off = b << 6;
  const msg = <usize>load<u32>(desc, 4);
  let src: usize;
  if (b == 0) {
    setLaneState(l, innerPtr(code));
    src = msg;
    if (t > 0) { // tail ++ the first 64 - t item bytes: the tail slot's 64 bytes, then 64 item
      // bytes over them from index t (the lane's 128-byte buffer has room; reading past the
      // item stays inside linear memory). No memory.copy: JSC calls out for it.
      const tp = tailPtrOf(code);
      v128.store(buf, v128.load(tp), 0);
      v128.store(buf, v128.load(tp, 16), 16);
      v128.store(buf, v128.load(tp, 32), 32);
      v128.store(buf, v128.load(tp, 48), 48);
      const d = buf + <usize>t;
      v128.store(d, v128.load(msg), 0);
      v128.store(d, v128.load(msg, 16), 16);
      v128.store(d, v128.load(msg, 32), 32);
      v128.store(d, v128.load(msg, 48), 48);
      src = buf;
    }
  } else {
    src = msg + <usize>(off - t); // block b >= 1 is item bytes only (t < 64)
  }
  if (off + 64 <= len) return src;
  // Last message block: copy 64 bytes (reading past the message stays inside linear memory)
  // and zero every byte at index >= r with a lane mask, then add the padding.
  const r = len - off; // bytes of message left in this block, -63..63
  const rv = i8x16.splat(<i8>r);
  const iota = i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (let k: usize = 0; k < 64; k += 16) {
    const keep = i8x16.lt_s(i8x16.add(iota, i8x16.splat(<i8>k)), rv);
    v128.store(buf + k, v128.and(v128.load(src + k), keep));
  }
  if (r >= 0) store<u8>(buf + <usize>r, 0x80);
  if (b == nb - 1) store<u64>(buf, bswap<u64>((<u64>len + <u64><u32>laneGet(LANE_ABS, l)) << 3), 56);
  return buf;
}

function finish(l: i32, count: i32, nextItem: i32): i32 {
  const item = laneGet(LANE_ITEM, l);
  if (item < 0) return nextItem;
  const b = laneGet(LANE_BLOCK, l);
  const nb = laneGet(LANE_NB, l);
  const st = STATE4 + (<usize>l << 2);
  if (b < nb - 1) { laneSet(LANE_BLOCK, l, b + 1); return nextItem; }
  if (b == nb - 1) { // inner digest done: build the outer block
    const buf = LANE_BUF + (<usize>l << 7);
    for (let t: usize = 0; t < 8; t++) store<u32>(buf + (t << 2), bswap<u32>(load<u32>(st + (t << 4))));
    v128.store(buf, i32x4(0x80, 0, 0, 0), 32);            // 0x80 then zeros
    v128.store(buf, i32x4(0, 0, 0, bswap<u32>(768)), 48); // length: (64 + 32) * 8 bits
    laneSet(LANE_BLOCK, l, nb);
    return nextItem;
  }
  // outer done: constant-time compare with the MAC
  const mac = <usize>load<u32>(BATCH_DESC + (<usize>item << 4), 12);
  let diff: u32 = 0;
  for (let t: usize = 0; t < 8; t++) diff |= load<u32>(st + (t << 4)) ^ bswap<u32>(load<u32>(mac + (t << 2)));
  store<u8>(BATCH_OUT + <usize>item, <u8>(diff == 0));
  assign(l, nextItem, count);
  return nextItem + 1;
}

/** Verifies `count` descriptors from BATCH_DESC; writes 1/0 per item to BATCH_OUT.
 *  mulShifts: 1 selects the multiply form of the left shifts (faster on JavaScriptCore). */
export function verifyBatch(count: i32, mulShifts: i32): void {
  if (count < 2) {
    for (let i: i32 = 0; i < count; i++) {
      const desc = BATCH_DESC + (<usize>i << 4);
      store<u8>(BATCH_OUT + <usize>i, <u8>hmacVerify(load<i32>(desc, 0), <usize>load<u32>(desc, 4), load<i32>(desc, 8), <usize>load<u32>(desc, 12)));
    }
    return;
  }
  let next: i32 = 0;
  for (let l = 0; l < 4; l++) { assign(l, next, count); next++; }
  while (laneGet(LANE_ITEM, 0) >= 0 || laneGet(LANE_ITEM, 1) >= 0 || laneGet(LANE_ITEM, 2) >= 0 || laneGet(LANE_ITEM, 3) >= 0) {
    const p0 = prepare(0), p1 = prepare(1), p2 = prepare(2), p3 = prepare(3);
    if (mulShifts) compress4<u16>(p0, p1, p2, p3);
    else compress4<u8>(p0, p1, p2, p3);
    for (let l = 0; l < 4; l++) next = finish(l, count, next);
  }
}
