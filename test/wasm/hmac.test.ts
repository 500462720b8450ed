import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { HmacKey, hmacSha256, verifyBatch, type VerifyItem } from "../../src/wasm/core.ts";
import { heap, L, wasm } from "../../src/wasm/instance.ts";
import { hex, randomBytes, rng } from "./random.ts";

const enc = new TextEncoder();
const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const seq = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);
const nodeHmac = (k: Uint8Array, m: Uint8Array) => new Uint8Array(createHmac("sha256", k).update(m).digest());
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

describe("hmacSha256: RFC 4231 test cases", () => {
  const cases: [number, Uint8Array, Uint8Array, string][] = [
    [1, fill(20, 0x0b), enc.encode("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [2, enc.encode("Jefe"), enc.encode("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    [3, fill(20, 0xaa), fill(50, 0xdd), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    [4, seq(1, 25), fill(50, 0xcd), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
    [5, fill(20, 0x0c), enc.encode("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"],
    [6, fill(131, 0xaa), enc.encode("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
    [7, fill(131, 0xaa),
      enc.encode("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"],
  ];
  for (const [n, key, msg, want] of cases) {
    test(`case ${n}`, () => {
      const oneShot = hex(hmacSha256(key, msg));
      const k = new HmacKey(key);
      const signed = hex(k.sign(msg));
      k.dispose();
      // case 5 specifies only the first 128 bits
      expect(oneShot.slice(0, want.length)).toBe(want);
      expect(signed).toBe(oneShot);
    });
  }
});

describe("HMAC: differential against node:crypto", () => {
  test("random keys 0..200 bytes, messages of every length 0..300", () => {
    const next = rng(10);
    const keys = [0, 1, 16, 32, 55, 63, 64, 65, 100, 128, 200].map((n) => randomBytes(next, n));
    for (let n = 0; n <= 300; n++) {
      const key = keys[n % keys.length]!;
      const msg = randomBytes(next, n);
      const want = nodeHmac(key, msg);
      expect(hex(hmacSha256(key, msg))).toBe(hex(want));
      const k = new HmacKey(key);
      expect(hex(k.sign(msg))).toBe(hex(want));
      expect(k.verify(msg, want)).toBe(true);
      expect(k.verify(msg, flipBit(want, (n * 7) % 256))).toBe(false);
      expect(k.verify(msg, view(want, n % 9))).toBe(true);
      expect(k.verify(msg, flipBit(want, n % 256))).toBe(false);
      expect(k.verify(msg, view(flipBit(want, (n * 13 + 5) % 256), (n + 4) % 9))).toBe(false);
      k.dispose();
    }
  });

  test("every key length 0..200 with a fixed message", () => {
    const next = rng(11);
    const msg = randomBytes(next, 150);
    for (let n = 0; n <= 200; n++) {
      const key = randomBytes(next, n);
      expect(hex(hmacSha256(key, msg))).toBe(hex(nodeHmac(key, msg)));
    }
  });

  test("large messages (100 KB, streamed in pieces)", () => {
    const next = rng(12);
    const key = randomBytes(next, 40);
    const k = new HmacKey(key);
    for (const n of [65536, 65537, 100_000, 250_000]) {
      const msg = randomBytes(next, n);
      const want = nodeHmac(key, msg);
      expect(hex(hmacSha256(key, msg))).toBe(hex(want));
      expect(hex(k.sign(msg))).toBe(hex(want));
      expect(k.verify(msg, want)).toBe(true);
      expect(k.verify(msg, flipBit(want, 255))).toBe(false);
    }
    k.dispose();
  });
});

describe("HmacKey.verify input handling", () => {
  const key = enc.encode("bot-secret-0123456789");
  const msg = enc.encode('{"room":"테스트","msg":"안녕하세요 🎉"}');
  const mac = nodeHmac(key, msg);

  test("wrong MAC lengths are false, not errors", () => {
    const k = new HmacKey(key);
    expect(k.verify(msg, mac.subarray(0, 31))).toBe(false);
    expect(k.verify(msg, new Uint8Array(33).fill(1))).toBe(false);
    expect(k.verify(msg, new Uint8Array(0))).toBe(false);
    expect(k.verify(msg, mac)).toBe(true);
    k.dispose();
  });

  test("a MAC that is not 32 bytes in a Uint8Array is false and never throws", () => {
    const k = new HmacKey(key);
    const good = hex(mac);
    const bad: unknown[] = [
      good, good.toUpperCase(), "", 123, null, undefined, {}, [good], Array.from(mac), new String(good), Symbol("x"),
      mac.buffer, new DataView(mac.buffer), new Uint8ClampedArray(mac), new Int8Array(mac), new Uint16Array(mac),
      new Uint32Array(mac.buffer.slice(0)), mac.subarray(1), view(mac, 1).subarray(0, 31),
    ];
    for (const m of bad) expect(k.verify(msg, m as Uint8Array)).toBe(false);
    expect(k.verify(msg, mac)).toBe(true);
    expect(k.verify(msg, view(mac, 7))).toBe(true);
    expect(k.verify(msg, Buffer.from(mac))).toBe(true);
    k.dispose();
  });

  test("dispose frees the slot; use afterwards throws; dispose is idempotent", () => {
    const k = new HmacKey(key);
    k.dispose();
    k.dispose();
    expect(() => k.sign(msg)).toThrow();
    expect(() => k.verify(msg, mac)).toThrow();
    expect(() => k.verify(msg, mac.subarray(0, 31))).toThrow(); // not false: a disposed key is an error first
    expect(() => verifyBatch([{ key: k, message: msg, mac }])).toThrow();
    // a reused slot gets fresh key material
    const other = new HmacKey(enc.encode("other"));
    expect(other.verify(msg, mac)).toBe(false);
    expect(hex(other.sign(msg))).toBe(hex(nodeHmac(enc.encode("other"), msg)));
    other.dispose();
  });

  test("many live keys (slot table grows memory) keep working", () => {
    const next = rng(13);
    const keys = Array.from({ length: 3000 }, () => randomBytes(next, 32));
    const live = keys.map((k) => new HmacKey(k));
    for (let i = 0; i < keys.length; i += 97) expect(live[i]!.verify(msg, nodeHmac(keys[i]!, msg))).toBe(true);
    for (const k of live) k.dispose();
  });
});

describe("verifyBatch", () => {
  /** Items over four keys of different lengths; MACs from node:crypto. */
  function items(seed: number, count: number, lens: (i: number) => number): { items: VerifyItem[]; keys: HmacKey[] } {
    const next = rng(seed);
    const keyBytes = [16, 32, 64, 100].map((n) => randomBytes(next, n));
    const keys = keyBytes.map((k) => new HmacKey(k));
    const out: VerifyItem[] = [];
    for (let i = 0; i < count; i++) {
      const message = randomBytes(next, lens(i));
      out.push({ key: keys[i % 4]!, message, mac: nodeHmac(keyBytes[i % 4]!, message) });
    }
    return { items: out, keys };
  }

  test("every message length 0..300, mixed keys, right and wrong MACs", () => {
    const { items: good, keys } = items(20, 301, (i) => i);
    expect(verifyBatch(good).every((x) => x === true)).toBe(true);
    const bad = good.map((it, i) => ({ ...it, mac: flipBit(it.mac, (i * 13) % 256) }));
    expect(verifyBatch(bad).some((x) => x)).toBe(false);
    const mixed = good.map((it, i) => (i % 3 === 1 ? bad[i]! : it));
    expect(verifyBatch(mixed)).toEqual(mixed.map((_, i) => i % 3 !== 1));
    for (const k of keys) k.dispose();
  });

  test("both kernel shapes (shifts for V8, multiplies for JavaScriptCore) give the same results", () => {
    const { items: good, keys } = items(23, 301, (i) => i);
    const mixed = good.map((it, i) => (i % 3 === 1 ? { ...it, mac: flipBit(it.mac, (i * 7) % 256) } : it));
    const want = mixed.map((_, i) => i % 3 !== 1);
    expect(verifyBatch(mixed)).toEqual(want); // packs all 301 items into one kernel call
    for (const mode of [0, 1]) {
      heap.fill(7, L.batchOut, L.batchOut + mixed.length);
      wasm.verifyBatch(mixed.length, mode); // re-run on the packed descriptors
      expect(Array.from(heap.subarray(L.batchOut, L.batchOut + mixed.length), (b) => b === 1)).toEqual(want);
    }
    for (const k of keys) k.dispose();
  });

  test("small batches (1..9 items) use every lane layout", () => {
    const { items: all, keys } = items(21, 9, (i) => 60 + i * 17);
    for (let n = 0; n <= 9; n++) {
      const batch = all.slice(0, n).map((it, i) => (i === n - 1 ? { ...it, mac: flipBit(it.mac, 0) } : it));
      expect(verifyBatch(batch)).toEqual(batch.map((_, i) => i !== n - 1));
    }
    for (const k of keys) k.dispose();
  });

  test("more items than one WASM call holds, huge messages, bad MAC lengths, reused out array", () => {
    const { items: all, keys } = items(22, 6000, (i) => (i === 77 ? 300_000 : i === 78 ? 100_000 : 100 + (i % 101)));
    all[5] = { ...all[5]!, mac: all[5]!.mac.subarray(0, 16) };
    const out: boolean[] = [false, false];
    const res = verifyBatch(all, out);
    expect(res).toBe(out);
    expect(res.length).toBe(6000);
    expect(res.filter((x) => !x).length).toBe(1);
    expect(res[5]).toBe(false);
    verifyBatch(all.slice(0, 3), out);
    expect(out).toEqual([true, true, true]);
    for (const k of keys) k.dispose();
  });
});
