import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { HmacKey, PrefixedKey, verifyBatch, type VerifyItem } from "../../src/wasm/core.ts";
import { heap, L, wasm } from "../../src/wasm/instance.ts";
import { hex, randomBytes, rng } from "./random.ts";

const enc = new TextEncoder();
const nodeHmac = (k: Uint8Array, m: Uint8Array) => new Uint8Array(createHmac("sha256", k).update(m).digest());
const concat = (a: Uint8Array, b: Uint8Array) => {
  const c = new Uint8Array(a.length + b.length);
  c.set(a);
  c.set(b, a.length);
  return c;
};
const flipBit = (b: Uint8Array, bit: number) => {
  const c = b.slice();
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};
/** The same bytes as a view at offset `off` into a larger buffer (junk around it). */
const view = (b: Uint8Array, off: number) => {
  const c = new Uint8Array(off + b.length + 3).fill(0xa5);
  c.set(b, off);
  return c.subarray(off, off + b.length);
};

describe("PrefixedKey: HMAC(prefix ++ rest) from a precomputed midstate", () => {
  test("every prefix length 0..200 (random keys) agrees with node:crypto and HmacKey over rest lengths 0..300", () => {
    const next = rng(40);
    const keys = [0, 1, 20, 32, 64, 65, 131].map((n) => randomBytes(next, n));
    const hk = keys.map((k) => new HmacKey(k));
    // every rest length for the block-boundary prefixes, a stride of them for the others
    const boundary = new Set([0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 193, 200]);
    let checked = 0;
    for (let p = 0; p <= 200; p++) {
      const ki = p % keys.length;
      const prefix = randomBytes(next, p);
      const pk = hk[ki]!.prefixed(prefix);
      expect(pk).toBeInstanceOf(PrefixedKey);
      expect(pk.prefixLength).toBe(p);
      for (let r = boundary.has(p) ? 0 : p % 7; r <= 300; r += boundary.has(p) ? 1 : 7) {
        const rest = randomBytes(next, r);
        const full = concat(prefix, rest);
        const want = nodeHmac(keys[ki]!, full);
        expect(hex(pk.sign(rest))).toBe(hex(want));
        expect(pk.verify(rest, want)).toBe(true);
        expect(pk.verify(rest, view(want, r % 9))).toBe(true);
        expect(hk[ki]!.verify(full, want)).toBe(true);
        const bad = flipBit(want, (p * 31 + r) % 256);
        expect(pk.verify(rest, bad)).toBe(false);
        expect(pk.verify(rest, view(bad, (r + 4) % 9))).toBe(false);
        checked++;
      }
      pk.dispose();
    }
    expect(checked).toBeGreaterThan(16 * 301);
    for (const k of hk) k.dispose();
  });

  test("a prefix is not the same as a key: other prefix, other key, wrong MAC lengths", () => {
    const key = enc.encode("secret");
    const k = new HmacKey(key);
    const other = new HmacKey(enc.encode("secret2"));
    const prefix = enc.encode("MessengerBotR|LOA.i|ccbd8eee-1012-327e-aaaa-0123456789ab|02:00:00:00:00:00|10.0.0.7|");
    const rest = enc.encode("1737354645123|salt");
    const mac = nodeHmac(key, concat(prefix, rest));
    const pk = k.prefixed(prefix);
    expect(pk.verify(rest, mac)).toBe(true);
    expect(k.prefixed(prefix.subarray(1)).verify(rest, mac)).toBe(false);
    expect(k.prefixed(concat(prefix, enc.encode("x"))).verify(rest, mac)).toBe(false);
    expect(other.prefixed(prefix).verify(rest, mac)).toBe(false);
    // the rest is not a whole message: the plain key over the rest alone does not verify
    expect(k.verify(rest, mac)).toBe(false);
    expect(pk.verify(rest, mac.subarray(0, 31))).toBe(false);
    expect(pk.verify(rest, new Uint8Array(33))).toBe(false);
    expect(verifyBatch([{ key: pk, message: rest, mac: mac.subarray(1) }, { key: pk, message: rest, mac }])).toEqual([false, true]);
    pk.dispose();
    k.dispose();
    other.dispose();
  });

  test("Korean and emoji bytes, split inside a multi-byte character", () => {
    const key = enc.encode("비밀키-secret-🔑");
    const k = new HmacKey(key);
    const signed = enc.encode("MessengerBotR|로아봇🎉|기기-😀-uuid-0123456789|unknown|192.168.0.10|1737354645123|소금🧂");
    for (let cut = 0; cut <= signed.length; cut++) {
      const pk = k.prefixed(signed.subarray(0, cut));
      const mac = nodeHmac(key, signed);
      expect(pk.verify(signed.subarray(cut), mac)).toBe(true);
      expect(hex(pk.sign(signed.subarray(cut)))).toBe(hex(mac));
      pk.dispose();
    }
    k.dispose();
  });

  test("the prefix is copied: changing the caller's buffer later changes nothing", () => {
    const key = enc.encode("k");
    const k = new HmacKey(key);
    const prefix = randomBytes(rng(41), 100);
    const want = nodeHmac(key, concat(prefix, enc.encode("rest")));
    const pk = k.prefixed(prefix);
    prefix.fill(0);
    expect(pk.verify(enc.encode("rest"), want)).toBe(true);
    pk.dispose();
    k.dispose();
  });

  test("long prefixes and rests (streamed through the 64 KiB hash input)", () => {
    const next = rng(42);
    const key = randomBytes(next, 32);
    const k = new HmacKey(key);
    for (const [p, r] of [[70_000, 10], [65_536, 0], [65_600, 65_536], [100, 200_000], [64, 65_536 - 64], [10, 65_530]] as const) {
      const prefix = randomBytes(next, p);
      const rest = randomBytes(next, r);
      const want = nodeHmac(key, concat(prefix, rest));
      const pk = k.prefixed(prefix);
      expect(hex(pk.sign(rest))).toBe(hex(want));
      expect(pk.verify(rest, want)).toBe(true);
      expect(pk.verify(rest, flipBit(want, 7))).toBe(false);
      // in a batch, a rest too large for the batch area falls back to the streamed single verify
      expect(verifyBatch([{ key: pk, message: rest, mac: want }, { key: pk, message: rest, mac: flipBit(want, 9) }])).toEqual([true, false]);
      pk.dispose();
    }
    k.dispose();
  });
});

describe("PrefixedKey lifetime and slots", () => {
  const key = enc.encode("lifetime-key");
  const prefix = enc.encode("MessengerBotR|LOA.i|ccbd8eee1012327e|02:00:00:00:00:00|192.168.1.100|");
  const rest = enc.encode("1737354645123|salt");
  const mac = nodeHmac(key, concat(prefix, rest));

  test("dispose is idempotent; use afterwards throws; a reused slot gets fresh state", () => {
    const k = new HmacKey(key);
    const pk = k.prefixed(prefix);
    expect(pk.verify(rest, mac)).toBe(true);
    pk.dispose();
    pk.dispose();
    expect(() => pk.verify(rest, mac)).toThrow("used after dispose");
    expect(() => pk.sign(rest)).toThrow();
    expect(() => pk.verify(rest, mac.subarray(0, 31))).toThrow("used after dispose"); // not false: a disposed key is an error first
    expect(() => verifyBatch([{ key: pk, message: rest, mac }, { key: k, message: rest, mac }])).toThrow();
    // the freed slot is reused by the next allocation, as a key and as a prefix
    const otherKey = enc.encode("other-key");
    const other = new HmacKey(otherKey);
    expect(other.verify(concat(prefix, rest), mac)).toBe(false);
    expect(other.verify(concat(prefix, rest), nodeHmac(otherKey, concat(prefix, rest)))).toBe(true);
    const pk2 = other.prefixed(prefix.subarray(0, 70));
    expect(pk2.verify(concat(prefix.subarray(70), rest), nodeHmac(otherKey, concat(prefix, rest)))).toBe(true);
    expect(pk2.verify(concat(prefix.subarray(70), rest), mac)).toBe(false);
    pk2.dispose();
    other.dispose();
    expect(k.verify(concat(prefix, rest), mac)).toBe(true); // the key itself is untouched
    k.dispose();
  });

  test("a PrefixedKey of a disposed HmacKey throws (its key slot may hold another key by now)", () => {
    const k = new HmacKey(key);
    const pk = k.prefixed(prefix);
    k.dispose();
    const reuse = new HmacKey(enc.encode("reuses the slot"));
    expect(() => pk.verify(rest, mac)).toThrow("HmacKey was disposed");
    expect(() => verifyBatch([{ key: pk, message: rest, mac }])).toThrow();
    expect(() => k.prefixed(prefix)).toThrow("used after dispose");
    pk.dispose();
    reuse.dispose();
  });

  test("bad arguments", () => {
    const k = new HmacKey(key);
    expect(() => k.prefixed("abc" as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => new PrefixedKey({} as HmacKey, prefix)).toThrow(TypeError);
    const pk = k.prefixed(prefix);
    expect(() => pk.verify("x" as unknown as Uint8Array, mac)).toThrow(TypeError);
    expect(() => new PrefixedKey(pk as unknown as HmacKey, prefix)).toThrow(TypeError);
    pk.dispose();
    k.dispose();
  });

  test("thousands of live prefix states (slot table grows memory) keep working, then free their slots", () => {
    const k = new HmacKey(key);
    const before = wasm.memory.buffer.byteLength;
    const pks = Array.from({ length: 5000 }, (_, i) => k.prefixed(enc.encode(`${"p".repeat(i % 130)}|${i}|`)));
    for (let i = 0; i < pks.length; i += 83) {
      const p = enc.encode(`${"p".repeat(i % 130)}|${i}|`);
      expect(pks[i]!.verify(rest, nodeHmac(key, concat(p, rest)))).toBe(true);
    }
    for (const pk of pks) pk.dispose();
    // freed slots are reused: as many new states do not grow memory further
    const grown = wasm.memory.buffer.byteLength;
    expect(grown).toBeGreaterThanOrEqual(before);
    const again = Array.from({ length: 5000 }, (_, i) => k.prefixed(enc.encode(`again ${i}`)));
    expect(wasm.memory.buffer.byteLength).toBe(grown);
    expect(again[4999]!.verify(rest, nodeHmac(key, concat(enc.encode("again 4999"), rest)))).toBe(true);
    for (const pk of again) pk.dispose();
    k.dispose();
  });
});

describe("verifyBatch with prefixed and plain items", () => {
  function mixed(seed: number, count: number): { items: VerifyItem[]; want: boolean[]; dispose: () => void } {
    const next = rng(seed);
    const keyBytes = [16, 32, 64, 100].map((n) => randomBytes(next, n));
    const keys = keyBytes.map((k) => new HmacKey(k));
    const prefixes = [0, 20, 63, 64, 65, 89, 128, 150, 200].map((n) => randomBytes(next, n));
    const pks = keys.flatMap((k) => prefixes.map((p) => k.prefixed(p)));
    const items: VerifyItem[] = [];
    const want: boolean[] = [];
    for (let i = 0; i < count; i++) {
      const ki = i % 4;
      const pi = Math.floor(next() * prefixes.length);
      const rest = randomBytes(next, Math.floor(next() * 301));
      const full = concat(prefixes[pi]!, rest);
      let mac = nodeHmac(keyBytes[ki]!, full);
      const good = i % 5 !== 2;
      if (!good) mac = flipBit(mac, i % 256);
      items.push(i % 3 === 0 ? { key: keys[ki]!, message: full, mac } : { key: pks[ki * prefixes.length + pi]!, message: rest, mac });
      want.push(good);
    }
    return { items, want, dispose: () => [...pks, ...keys].forEach((k) => k.dispose()) };
  }

  test("random mixes, right and wrong MACs, both kernel shapes", () => {
    const { items, want, dispose } = mixed(50, 500);
    expect(verifyBatch(items)).toEqual(want); // one kernel call (fits the batch area)
    for (const mode of [0, 1]) {
      heap.fill(7, L.batchOut, L.batchOut + items.length);
      wasm.verifyBatch(items.length, mode); // re-run on the packed descriptors
      expect(Array.from(heap.subarray(L.batchOut, L.batchOut + items.length), (b) => b === 1)).toEqual(want);
    }
    dispose();
  });

  test("every small batch size 0..9 (each lane layout, the single-item path)", () => {
    const { items, want, dispose } = mixed(51, 9);
    for (let n = 0; n <= 9; n++) {
      for (let off = 0; off + n <= 9; off += 3) {
        expect(verifyBatch(items.slice(off, off + n))).toEqual(want.slice(off, off + n));
      }
    }
    dispose();
  });

  test("more items than one WASM call holds", () => {
    const { items, want, dispose } = mixed(52, 5000);
    expect(verifyBatch(items)).toEqual(want);
    dispose();
  });
});
