import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { HmacKey, type PackedItem, type PrefixedKey, verifyPacked } from "../../src/wasm/core.ts";
import { L, wasm } from "../../src/wasm/instance.ts";
import { randomBytes, rng } from "./random.ts";

const nodeHmac = (k: Uint8Array, m: Uint8Array) => new Uint8Array(createHmac("sha256", k).update(m).digest());

/** Items packed as AuthVerifier packs them: [MAC][rest], one after another (a PrefixedKey's
 *  prefix, tail included, stays in WASM). */
function pack(next: () => number, specs: { key: HmacKey | PrefixedKey; secret: Uint8Array; prefix: Uint8Array; rest: Uint8Array; good: boolean }[]) {
  const size = specs.reduce((n, s) => n + 32 + s.rest.length, 0);
  const bytes = new Uint8Array(size + 7);
  let at = 7; // not at 0, so offsets are really used
  const items: (PackedItem & { want: boolean })[] = [];
  for (const s of specs) {
    const full = new Uint8Array(s.prefix.length + s.rest.length);
    full.set(s.prefix);
    full.set(s.rest, s.prefix.length);
    const mac = nodeHmac(s.secret, full);
    if (!s.good) mac[(next() * 32) | 0]! ^= 1 << ((next() * 8) | 0);
    bytes.set(mac, at);
    bytes.set(s.rest, at + 32);
    items.push({ key: s.key, at, length: s.rest.length, macOk: !s.good, want: s.good });
    at += 32 + s.rest.length;
  }
  return { bytes, items };
}

describe("verifyPacked: MACs of items packed by the caller into one buffer", () => {
  const next = rng(77);
  const secrets = [8, 32, 64, 100].map((n) => randomBytes(next, n));
  const keys = secrets.map((s) => new HmacKey(s));
  const prefixes = [0, 1, 63, 64, 79, 89, 130].map((n) => randomBytes(next, n));
  const pks = prefixes.map((p, i) => keys[i % keys.length]!.prefixed(p));
  const spec = (i: number, restLen: number, good: boolean) => {
    const usePrefix = i % 3 !== 0;
    const ki = i % keys.length;
    const pi = i % prefixes.length;
    return usePrefix
      ? { key: pks[pi]!, secret: secrets[pi % keys.length]!, prefix: prefixes[pi]!, rest: randomBytes(next, restLen), good }
      : { key: keys[ki]!, secret: secrets[ki]!, prefix: new Uint8Array(0), rest: randomBytes(next, restLen), good };
  };

  test("agrees with node:crypto: key and prefix slots, 1..300 items, good and forged, any order or subset", () => {
    for (let round = 0; round < 40; round++) {
      const n = round === 0 ? 1 : 1 + ((next() * 300) | 0);
      const { bytes, items } = pack(next, Array.from({ length: n }, (_, i) => spec(i + round, (next() * 200) | 0, next() < 0.7)));
      verifyPacked(bytes, items);
      expect(items.map((it) => it.macOk)).toEqual(items.map((it) => it.want));
      // reversed and a subset: still right (runs are split where offsets go backwards)
      const shuffled = items.filter(() => next() < 0.6).reverse();
      for (const it of shuffled) it.macOk = !it.want;
      verifyPacked(bytes, shuffled);
      expect(shuffled.map((it) => it.macOk)).toEqual(shuffled.map((it) => it.want));
    }
  });

  test("more items than one batch call holds, and an item larger than the batch area (streamed)", () => {
    const many = pack(next, Array.from({ length: L.batchMax + 37 }, (_, i) => spec(i, 20 + (i % 40), i % 5 !== 0)));
    verifyPacked(many.bytes, many.items);
    expect(many.items.map((it) => it.macOk)).toEqual(many.items.map((it) => it.want));
    const bytesFull = pack(next, Array.from({ length: 3000 }, (_, i) => spec(i, 100 + (i % 90), i % 7 !== 0)));
    verifyPacked(bytesFull.bytes, bytesFull.items); // > L.batchCap bytes in all
    expect(bytesFull.items.map((it) => it.macOk)).toEqual(bytesFull.items.map((it) => it.want));
    const big = pack(next, [spec(1, 10, true), spec(2, L.batchCap + 100, true), spec(4, L.batchCap, false), spec(5, 10, true)]);
    verifyPacked(big.bytes, big.items);
    expect(big.items.map((it) => it.macOk)).toEqual([true, true, false, true]);
  });

  test("memory grown between packing and verifying (new key slots) does not matter", () => {
    const { bytes, items } = pack(next, Array.from({ length: 50 }, (_, i) => spec(i, 30, i % 2 === 0)));
    const before = wasm.memory.buffer.byteLength;
    const extra: HmacKey[] = [];
    while (wasm.memory.buffer.byteLength === before) extra.push(new HmacKey(randomBytes(next, 16)));
    verifyPacked(bytes, items);
    expect(items.map((it) => it.macOk)).toEqual(items.map((it) => it.want));
    for (const k of extra) k.dispose();
  });

  test("a disposed key throws instead of using a slot that may hold another key", () => {
    const k = new HmacKey(randomBytes(next, 32));
    const pk = k.prefixed(randomBytes(next, 70));
    const bytes = new Uint8Array(200);
    pk.dispose();
    expect(() => verifyPacked(bytes, [{ key: pk, at: 0, length: 10, macOk: false }])).toThrow("after dispose");
    k.dispose();
  });
  test("UTF-8 (Korean, emoji) prefixes and rests of random lengths, random keys, prefix and whole-string items mixed", () => {
    const enc = new TextEncoder();
    const alphabet = ["a", "Z", "7", "|", ":", "가", "힣", "한국어", "😀", "👍🏽", "é", " "];
    const text = (n: number) => Array.from({ length: n }, () => alphabet[(next() * alphabet.length) | 0]).join("");
    for (let round = 0; round < 30; round++) {
      const secrets = Array.from({ length: 3 }, () => randomBytes(next, 1 + ((next() * 120) | 0)));
      const hk = secrets.map((x) => new HmacKey(x));
      const specs = Array.from({ length: 1 + ((next() * 40) | 0) }, () => {
        const ki = (next() * hk.length) | 0;
        const prefix = enc.encode(text((next() * 70) | 0)); // 0..~280 bytes: every tail length
        const rest = enc.encode(text((next() * 40) | 0));
        const good = next() < 0.7;
        if (next() < 0.3) {
          const full = new Uint8Array(prefix.length + rest.length);
          full.set(prefix);
          full.set(rest, prefix.length);
          return { key: hk[ki]!, secret: secrets[ki]!, prefix: new Uint8Array(0), rest: full, good };
        }
        return { key: hk[ki]!.prefixed(prefix), secret: secrets[ki]!, prefix, rest, good };
      });
      const { bytes, items } = pack(next, specs);
      verifyPacked(bytes, items);
      expect(items.map((it) => it.macOk)).toEqual(items.map((it) => it.want));
      for (const sp of specs) if (sp.key !== hk[0] && sp.key !== hk[1] && sp.key !== hk[2]) sp.key.dispose();
      for (const k of hk) k.dispose();
    }
  });

  test("memory grown by new prefix states (two slots each) between packing and verifying", () => {
    const { bytes, items } = pack(next, Array.from({ length: 40 }, (_, i) => spec(i, 25, i % 3 !== 0)));
    const before = wasm.memory.buffer.byteLength;
    const extra: PrefixedKey[] = [];
    while (wasm.memory.buffer.byteLength === before) extra.push(keys[0]!.prefixed(randomBytes(next, 100)));
    verifyPacked(bytes, items);
    expect(items.map((it) => it.macOk)).toEqual(items.map((it) => it.want));
    for (const k of extra) k.dispose();
  });

  test("freed prefix slots (state and tail) reused by other prefixes and keys give fresh results", () => {
    const secret = randomBytes(next, 32);
    const k = new HmacKey(secret);
    for (let round = 0; round < 20; round++) {
      // dispose a batch of prefix states (long and short tails), then make new ones into the freed slots
      const old = Array.from({ length: 8 }, () => k.prefixed(randomBytes(next, 64 + ((next() * 64) | 0))));
      for (const o of old) o.dispose();
      const reusedKey = new HmacKey(randomBytes(next, 20)); // may take a former tail slot
      const specs = Array.from({ length: 12 }, (_, i) => {
        const prefix = randomBytes(next, (next() * 140) | 0);
        return { key: k.prefixed(prefix), secret, prefix, rest: randomBytes(next, (next() * 60) | 0), good: i % 4 !== 1 };
      });
      const { bytes, items } = pack(next, specs);
      verifyPacked(bytes, items);
      expect(items.map((it) => it.macOk)).toEqual(items.map((it) => it.want));
      for (const sp of specs) expect(sp.key.sign(sp.rest)).toEqual(nodeHmac(secret, new Uint8Array([...sp.prefix, ...sp.rest])));
      for (const sp of specs) sp.key.dispose();
      reusedKey.dispose();
    }
    k.dispose();
  });
});
