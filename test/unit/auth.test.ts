import { describe, expect, test } from "bun:test";
import { AuthVerifier } from "../../src/protocol/auth.ts";
import { BotgateError } from "../../src/errors.ts";
import { signAuth } from "../support/phone.ts";
import { codeOf } from "../support/codes.ts";
import { wasm } from "../../src/wasm/instance.ts";

const wasmMemoryBytes = () => wasm.memory.buffer.byteLength;

const id = { botName: "LOA.i", deviceId: "ccbd8eee1012327e", secret: "비밀키-secret-0123456789", salt: "소금🧂" };
const now = 1_737_354_645_123;


describe("AuthVerifier", () => {
  const make = () => new AuthVerifier([{ name: id.botName, secret: id.secret, salt: id.salt }], 300_000);

  test("accepts a block signed per the spec (UTF-8 secret and salt), once", () => {
    const v = make();
    const a = signAuth(id, now);
    expect(v.verify(id.botName, id.deviceId, a, now).timestamp).toBe(now);
    expect(codeOf(() => v.verify(id.botName, id.deviceId, a, now))).toBe("AUTH_REPLAY");
  });

  test("uppercase hex is the same signature", () => {
    const a = signAuth(id, now);
    a.signature = (a.signature as string).toUpperCase();
    expect(codeOf(() => make().verify(id.botName, id.deviceId, a, now))).toBe("OK");
  });

  test("every signed field matters", () => {
    for (const field of ["clientType", "deviceUUID", "macAddress", "ipAddress"]) {
      const a = signAuth(id, now);
      a[field] = "tampered";
      if (field === "deviceUUID") a.deviceID = "tampered"; // keep the session binding check out of the way
      const expected = field === "deviceUUID" ? "AUTH_MISMATCH" : "AUTH_BAD_SIGNATURE";
      expect(codeOf(() => make().verify(id.botName, id.deviceId, a, now))).toBe(expected);
    }
    const t = signAuth(id, now);
    t.timestamp = now + 1;
    expect(codeOf(() => make().verify(id.botName, id.deviceId, t, now))).toBe("AUTH_BAD_SIGNATURE");
  });

  test("the signed deviceUUID binds the block; the unsigned deviceID only when deviceUUID is \"unknown\"", () => {
    const v = make();
    const b = { ...id, deviceId: "other-device" };
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(b, now, { deviceID: id.deviceId }), now))).toBe("AUTH_MISMATCH");
    expect(() => v.verify(id.botName, id.deviceId, signAuth(b, now, { deviceID: id.deviceId }), now)).toThrow("auth.deviceUUID (the signed id) is not the session's device");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now, { deviceUUID: "unknown" }), now))).toBe("OK");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(b, now + 1, { deviceUUID: "unknown" }), now))).toBe("AUTH_MISMATCH");
    // A session whose own device id is "unknown" (allowUnknownDeviceId) has nothing better to bind to.
    const u = { ...id, deviceId: "unknown" };
    expect(codeOf(() => v.verify(id.botName, "unknown", signAuth(u, now + 2, { deviceUUID: "ccbd8eee1012327e" }), now))).toBe("OK");
  });

  test("after the wall clock steps back past a prune, a forgotten block is stale, not accepted again", () => {
    const v = make();
    const a = signAuth(id, now);
    expect(codeOf(() => v.verify(id.botName, id.deviceId, a, now))).toBe("OK");
    v.prune(now + 300_000 + 2_000); // its bucket is dropped: outside the window by then
    const stepped = now + 60_000; // the clock went back: inside the window again
    expect(codeOf(() => v.verify(id.botName, id.deviceId, a, stepped))).toBe("AUTH_STALE");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, stepped), stepped))).toBe("OK"); // fresh blocks still pass
  });

  test("clearReplay (the benchmark hook) forgets the cache without refusing older in-window blocks afterwards", () => {
    const v = make();
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now), now))).toBe("OK");
    v.clearReplay();
    expect(v.replayEntries).toBe(0);
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now - 5_000), now))).toBe("OK"); // prune(a future time) would make this AUTH_STALE
  });

  test("malformed blocks are AUTH_INVALID / AUTH_MISSING, never a crash", () => {
    const v = make();
    expect(codeOf(() => v.verify(id.botName, id.deviceId, undefined, now))).toBe("AUTH_MISSING");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, "x", now))).toBe("AUTH_INVALID");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, [], now))).toBe("AUTH_INVALID");
    for (const sig of ["", "zz".repeat(32), "ab".repeat(31), "ab".repeat(33), "가".repeat(64), 42]) {
      const a = signAuth(id, now);
      a.signature = sig;
      expect(codeOf(() => v.verify(id.botName, id.deviceId, a, now))).toBe("AUTH_INVALID");
    }
    for (const ts of ["1737354645123", 1.5, -1, Number.MAX_VALUE]) {
      const a = signAuth(id, now);
      a.timestamp = ts;
      expect(codeOf(() => v.verify(id.botName, id.deviceId, a, now))).toBe("AUTH_INVALID");
    }
  });

  test("window is inclusive at +/- authWindowMs", () => {
    expect(codeOf(() => make().verify(id.botName, id.deviceId, signAuth(id, now - 300_000), now))).toBe("OK");
    expect(codeOf(() => make().verify(id.botName, id.deviceId, signAuth(id, now + 300_001), now))).toBe("AUTH_STALE");
  });
});

describe("AuthVerifier batch path (check + verifyPrepared + commit)", () => {
  const make = () => new AuthVerifier([{ name: id.botName, secret: id.secret, salt: id.salt }], 300_000);

  /** The batch path over one read's blocks, in order; codes as the single path reports them. */
  function batchCodes(v: AuthVerifier, blocks: unknown[], at: number): string[] {
    const pre = blocks.map((b) => {
      try {
        return v.check(id.botName, id.deviceId, b, at);
      } catch (e) {
        return (e as BotgateError).code;
      }
    });
    const items = pre.filter((p) => typeof p !== "string");
    v.verifyPrepared(items);
    const ok = items.map((it) => it.macOk);
    let k = 0;
    return pre.map((p) => (typeof p === "string" ? p : codeOf(() => v.commit(p, ok[k++]!))));
  }

  test("agrees with verify() on random mixes of valid, forged, stale, malformed and replayed blocks", () => {
    let seed = 0x2545f491;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const single = make();
    const batched = make();
    let ts = now - 250_000;
    const seen: Record<string, unknown>[] = [];
    let total = 0;
    const codes = new Set<string>();
    for (let round = 0; round < 60; round++) {
      const n = 1 + Math.floor(rand() * (round % 10 === 0 ? 150 : 20)); // some reads beyond the WASM batch and arena sizes
      const blocks: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const r = rand();
        let a: Record<string, unknown> | unknown;
        if (r < 0.5) a = signAuth({ ...id, macAddress: "x".repeat(Math.floor(rand() * 200)) }, ts++);
        else if (r < 0.6) {
          const b = signAuth(id, ts++);
          const s = b.signature as string;
          const p = Math.floor(rand() * 64);
          b.signature = s.slice(0, p) + (s[p] === "a" ? "b" : "a") + s.slice(p + 1);
          a = b;
        } else if (r < 0.67) a = signAuth({ ...id, secret: "wrong" }, ts++);
        else if (r < 0.74) a = signAuth(id, now + 300_001 + Math.floor(rand() * 1000));
        else if (r < 0.8) a = { ...signAuth(id, ts++), signature: "zz".repeat(32) };
        else if (r < 0.85) a = rand() < 0.5 ? undefined : { ...signAuth(id, ts++), deviceUUID: "other", deviceID: "other" };
        else if (r < 0.9) a = { ...signAuth(id, ts++), signature: (signAuth(id, ts - 1).signature as string).toUpperCase() };
        else a = seen.length > 0 ? seen[Math.floor(rand() * seen.length)] : signAuth(id, ts++); // replay
        if (a && typeof a === "object" && rand() < 0.3) seen.push(a as Record<string, unknown>);
        blocks.push(a);
      }
      const expected = blocks.map((b) => codeOf(() => single.verify(id.botName, id.deviceId, b, now)));
      expect(batchCodes(batched, blocks, now)).toEqual(expected);
      for (const c of expected) codes.add(c);
      total += n;
    }
    expect(total).toBeGreaterThan(500);
    expect([...codes].sort()).toEqual(["AUTH_BAD_SIGNATURE", "AUTH_INVALID", "AUTH_MISMATCH", "AUTH_MISSING", "AUTH_REPLAY", "AUTH_STALE", "OK"]);
    expect(batched.replayEntries).toBe(single.replayEntries);
  });

  test("a replay inside one read is caught in arrival order, after the MAC", () => {
    const v = make();
    const a = signAuth(id, now);
    const forgedCopy = { ...a, signature: "00".repeat(32) };
    expect(batchCodes(v, [forgedCopy, a, a, signAuth(id, now + 1)], now)).toEqual(["AUTH_BAD_SIGNATURE", "OK", "AUTH_REPLAY", "OK"]);
  });
});

describe("AuthVerifier prefix states (cached inner hash state of clientType|botName|deviceUUID|macAddress|ipAddress|)", () => {
  const bots = [{ name: id.botName, secret: id.secret, salt: id.salt }];

  test("a changed ipAddress (or macAddress) for the same device still verifies; both states are cached", () => {
    const v = new AuthVerifier(bots, 300_000);
    expect(v.verify(id.botName, id.deviceId, signAuth(id, now), now).timestamp).toBe(now);
    expect(v.prefixStates).toBe(1);
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth({ ...id, ipAddress: "10.0.0.2" }, now + 1), now))).toBe("OK");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth({ ...id, ipAddress: "unknown" }, now + 2), now))).toBe("OK");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth({ ...id, macAddress: "unknown" }, now + 3), now))).toBe("OK");
    expect(v.prefixStates).toBe(4);
    // back to the first address: a cache hit, still right, and a forged one still wrong
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now + 4), now))).toBe("OK");
    const forged = signAuth({ ...id, ipAddress: "10.0.0.2" }, now + 5);
    forged.ipAddress = "10.0.0.3";
    expect(codeOf(() => v.verify(id.botName, id.deviceId, forged, now))).toBe("AUTH_BAD_SIGNATURE");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth({ ...id, secret: "wrong" }, now + 6), now))).toBe("AUTH_BAD_SIGNATURE");
    expect(v.prefixStates).toBe(5);
    v.dispose();
    expect(v.prefixStates).toBe(0);
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now + 7), now))).toBe("UNKNOWN_BOT");
  });

  test("prefixes of every length around the 64-byte blocks, Korean/emoji fields, both paths", () => {
    const single = new AuthVerifier(bots, 300_000);
    const batched = new AuthVerifier(bots, 300_000);
    const blocks: Record<string, unknown>[] = [];
    for (let n = 0; n < 150; n++) {
      const ip = n % 3 === 0 ? `주소-🌐-${"x".repeat(n)}` : "y".repeat(n);
      blocks.push(signAuth({ ...id, ipAddress: ip }, now + n));
    }
    for (const b of blocks) expect(codeOf(() => single.verify(id.botName, id.deviceId, b, now))).toBe("OK");
    const items = blocks.map((b) => batched.check(id.botName, id.deviceId, { ...b }, now));
    batched.verifyPrepared(items);
    expect(items.every((it) => it.macOk)).toBe(true);
    const bad = blocks.map((b, i) => batched.check(id.botName, id.deviceId, { ...b, timestamp: now + 1000 + i }, now));
    batched.verifyPrepared(bad);
    expect(bad.some((it) => it.macOk)).toBe(false);
    single.dispose();
    batched.dispose();
  });

  test("the cache stays bounded, evicted states are freed (WASM memory stops growing), and still verifies", () => {
    const v = new AuthVerifier(bots, 300_000, { prefixCacheMax: 16 });
    const at = (i: number) => ({ ...id, ipAddress: `10.${i >> 8}.${i & 255}.1` });
    let ts = now - 200_000;
    // single path: many devices' addresses, a few of them hot
    for (let i = 0; i < 300; i++) {
      expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(at(i), ts++), now))).toBe("OK");
      expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(at(i % 4), ts++), now))).toBe("OK");
      expect(v.prefixStates).toBeLessThanOrEqual(16);
    }
    // batch path: one read with more distinct prefixes than the cache holds; states evicted
    // during check() stay usable until verifyPrepared() is done
    const memBefore = wasmMemoryBytes();
    for (let round = 0; round < 60; round++) {
      const blocks = Array.from({ length: 40 }, (_, i) => signAuth(at(1000 + round * 40 + i), ts++));
      const items = blocks.map((b) => v.check(id.botName, id.deviceId, b, now));
      expect(v.prefixStates).toBe(16);
      v.verifyPrepared(items);
      expect(items.map((it) => it.macOk)).toEqual(blocks.map(() => true));
      for (const it of items) expect(v.commit(it, true)).toBe(it.block);
    }
    expect(wasmMemoryBytes()).toBe(memBefore);
    v.dispose();
  });

  test("timestamps of every digit count, up to the largest safe integer, are signed as their decimal string", () => {
    const v = new AuthVerifier(bots, Number.MAX_SAFE_INTEGER);
    const stamps = [0, 1, 9, 10, 99, 100, 12_345_678, 99_999_999, 100_000_000, 100_000_001, 199_999_999, 999_999_999_999,
      1_737_354_645_123, 9_999_999_999_999, 10_000_000_000_000, 1e15, 1e15 + 7, 9_007_199_254_740_990, Number.MAX_SAFE_INTEGER];
    for (let i = 1; i < 16; i++) stamps.push(10 ** i - 1, 10 ** i, 10 ** i + 99_999_999);
    for (const ts of new Set(stamps)) {
      expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, ts), 0))).toBe("OK");
      const off = signAuth(id, ts);
      off.timestamp = ts === 0 ? 1 : ts - 1;
      expect(codeOf(() => v.verify(id.botName, id.deviceId, off, 0))).toBe("AUTH_BAD_SIGNATURE");
    }
    v.dispose();
  });

  test("the default bound is 50,000 states", () => {
    const v = new AuthVerifier(bots, 300_000);
    const sig = "ab".repeat(32); // check() does not look at the MAC yet
    for (let i = 0; i < 50_100; i++) {
      v.check(id.botName, id.deviceId, { ...signAuth(id, now), ipAddress: `ip-${i}`, signature: sig }, now);
      if (i % 64 === 63) v.verifyPrepared([]); // frees evicted states, as a read's batch would
    }
    expect(v.prefixStates).toBe(50_000);
    v.dispose();
  });

  test("bots whose prefix strings coincide never share a state ('|' inside clientType or botName)", () => {
    // clientType "X" + botName "A|B"  and  clientType "X|A" + botName "B" both sign "X|A|B|dev|...".
    const one = { botName: "A|B", deviceId: "dev", secret: "secret-one", salt: "s" };
    const two = { botName: "B", deviceId: "dev", secret: "secret-two", salt: "s" };
    const v = new AuthVerifier([one, two].map((b) => ({ name: b.botName, secret: b.secret, salt: b.salt })), 300_000);
    const a1 = signAuth(one, now, { clientType: "X" });
    const a2 = signAuth(two, now, { clientType: "X|A" });
    expect(codeOf(() => v.verify(one.botName, "dev", a1, now))).toBe("OK");
    expect(codeOf(() => v.verify(two.botName, "dev", a2, now))).toBe("OK");
    // bot one's signature presented in bot two's session (same signed bytes, other key)
    const cross = { ...signAuth(one, now + 1, { clientType: "X" }), clientType: "X|A", botName: "B" };
    expect(codeOf(() => v.verify(two.botName, "dev", cross, now))).toBe("AUTH_BAD_SIGNATURE");
    expect(codeOf(() => v.verify(one.botName, "dev", signAuth(one, now + 2, { clientType: "X" }), now))).toBe("OK");
    v.dispose();
  });
});
