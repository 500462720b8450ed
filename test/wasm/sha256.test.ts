import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { sha256 } from "../../src/wasm/core.ts";
import { hex, randomBytes, rng } from "./random.ts";

const enc = new TextEncoder();

describe("sha256: NIST FIPS 180 examples", () => {
  const cases: [string, string | Uint8Array, string][] = [
    ["empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
    ["896-bit",
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"],
    ["one million 'a'", new Uint8Array(1_000_000).fill(0x61),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
  ];
  for (const [name, input, want] of cases) {
    test(name, () => {
      const data = typeof input === "string" ? enc.encode(input) : input;
      const got = sha256(data);
      expect(got.length).toBe(32);
      expect(hex(got)).toBe(want);
    });
  }
});

describe("sha256: differential against node:crypto", () => {
  test("every length 0..300", () => {
    const next = rng(1);
    for (let n = 0; n <= 300; n++) {
      const data = randomBytes(next, n);
      expect(hex(sha256(data))).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });

  test("large inputs across the 64 KiB streaming boundary", () => {
    const next = rng(2);
    for (const n of [65535, 65536, 65537, 100_000, 300_001]) {
      const data = randomBytes(next, n);
      expect(hex(sha256(data))).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });

  test("subarray views hash only their bytes, and the result is a fresh copy", () => {
    const backing = randomBytes(rng(3), 500);
    const view = backing.subarray(7, 207);
    const a = sha256(view);
    const b = sha256(new Uint8Array(10));
    expect(hex(a)).toBe(createHash("sha256").update(view).digest("hex"));
    expect(a).not.toEqual(b);
  });
});
