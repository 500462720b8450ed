import { afterEach, describe, expect, test } from "bun:test";
import { type AuthPrefix, AuthVerifier, newAuthMemo } from "../../src/protocol/auth.ts";
import { signAuth } from "../support/phone.ts";
import { codeOf } from "../support/codes.ts";

const id = { botName: "LOA.i", deviceId: "ccbd8eee1012327e", secret: "비밀키-secret-0123456789", salt: "소금🧂" };
const bots = [{ name: id.botName, secret: id.secret, salt: id.salt }];
const now = 1_737_354_645_123;


/** Prefix strings looked up in a Map while `fn` runs (the prefix cache is the only Map keyed by strings ending in '|'). */
const realGet = Map.prototype.get;
afterEach(() => {
  Map.prototype.get = realGet;
});
function prefixLookups(fn: () => void): string[] {
  const seen: string[] = [];
  Map.prototype.get = function (this: Map<unknown, unknown>, k: unknown) {
    if (typeof k === "string" && k.endsWith("|")) seen.push(k);
    return realGet.call(this, k);
  };
  try {
    fn();
  } finally {
    Map.prototype.get = realGet;
  }
  return seen;
}

describe("AuthMemo (per-session memo of the last prefix state)", () => {
  test("a hit: same fields again need no cache lookup, verify, and replays are still refused", () => {
    const v = new AuthVerifier(bots, 300_000);
    const memo = newAuthMemo();
    expect(prefixLookups(() => expect(v.verify(id.botName, id.deviceId, signAuth(id, now), now, memo).timestamp).toBe(now))).toHaveLength(1);
    const entry = memo.authPrefix;
    expect(entry).not.toBeNull();
    const again = signAuth(id, now + 1);
    expect(prefixLookups(() => expect(codeOf(() => v.verify(id.botName, id.deviceId, again, now, memo))).toBe("OK"))).toEqual([]);
    expect(memo.authPrefix).toBe(entry);
    // replay through the memo path, single and batch
    expect(codeOf(() => v.verify(id.botName, id.deviceId, again, now, memo))).toBe("AUTH_REPLAY");
    const b = signAuth(id, now + 2);
    const items = [b, b, { ...b, signature: "00".repeat(32) }].map((x) => v.check(id.botName, id.deviceId, x, now, memo));
    v.verifyPrepared(items);
    expect(items.map((it) => codeOf(() => v.commit(it)))).toEqual(["OK", "AUTH_REPLAY", "AUTH_BAD_SIGNATURE"]);
    // a forged block through the memo path is still refused
    const forged = signAuth(id, now + 3);
    forged.timestamp = now + 4;
    expect(prefixLookups(() => expect(codeOf(() => v.verify(id.botName, id.deviceId, forged, now, memo))).toBe("AUTH_BAD_SIGNATURE"))).toEqual([]);
    expect(v.prefixStates).toBe(1);
    v.dispose();
  });

  test("a miss when ipAddress (or macAddress) changes: the cache is asked and the memo follows", () => {
    const v = new AuthVerifier(bots, 300_000);
    const memo = newAuthMemo();
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now), now, memo))).toBe("OK");
    const first = memo.authPrefix;
    const moved = { ...id, ipAddress: "10.0.0.2" };
    expect(prefixLookups(() => expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(moved, now + 1), now, memo))).toBe("OK"))).toHaveLength(1);
    expect(memo.authPrefix).not.toBe(first);
    expect(v.prefixStates).toBe(2);
    // the old address's signature must not pass on the new address's state
    const stale = { ...signAuth(id, now + 2), ipAddress: "10.0.0.2" };
    expect(codeOf(() => v.verify(id.botName, id.deviceId, stale, now, memo))).toBe("AUTH_BAD_SIGNATURE");
    // back to the first address: a cache hit (no new state), the memo points at it again
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now + 3), now, memo))).toBe("OK");
    expect(memo.authPrefix).toBe(first);
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth({ ...id, macAddress: "unknown" }, now + 4), now, memo))).toBe("OK");
    expect(v.prefixStates).toBe(3);
    // a longer or shorter field with the same characters around it is another prefix
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth({ ...id, macAddress: "unknow" }, now + 5), now, memo))).toBe("OK");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth({ ...id, macAddress: "unknownn" }, now + 6), now, memo))).toBe("OK");
    expect(v.prefixStates).toBe(5);
    v.dispose();
  });

  test("after the shared cache evicted (and freed) the memo's state, the memo is not used", () => {
    const v = new AuthVerifier(bots, 300_000, { prefixCacheMax: 1 });
    const a = newAuthMemo();
    const other = { ...id, deviceId: "other-device" };
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now), now, a))).toBe("OK");
    const held = a.authPrefix;
    // another device's event evicts it; its slot is freed and (likely) reused by the new state
    expect(codeOf(() => v.verify(id.botName, other.deviceId, signAuth(other, now + 1), now, newAuthMemo()))).toBe("OK");
    expect(v.prefixStates).toBe(1);
    // a memo holding the dropped state falls back to the cache (would throw "used after dispose()" otherwise)
    expect(prefixLookups(() => expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now + 2), now, a))).toBe("OK"))).toHaveLength(1);
    expect(a.authPrefix).not.toBe(held);
    // evicted during a read's checks: the items of that read still verify, the next read misses
    const b = newAuthMemo();
    const items = [v.check(id.botName, id.deviceId, signAuth(id, now + 3), now, a), v.check(id.botName, other.deviceId, signAuth(other, now + 4), now, b)];
    v.verifyPrepared(items);
    expect(items.map((it) => codeOf(() => v.commit(it)))).toEqual(["OK", "OK"]);
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now + 5), now, a))).toBe("OK");
    // after dispose() no memo reaches a freed state
    v.dispose();
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now + 6), now, a))).toBe("UNKNOWN_BOT");
  });

  test("a memo is never used for another device or another bot (even when shared by mistake)", () => {
    const one = { botName: "A|B", deviceId: "dev", secret: "secret-one", salt: "s" };
    const two = { botName: "B", deviceId: "dev", secret: "secret-two", salt: "s" };
    const v = new AuthVerifier([one, two].map((b) => ({ name: b.botName, secret: b.secret, salt: b.salt })), 300_000);
    const memo = newAuthMemo();
    // clientType "X" + botName "A|B" and clientType "X|A" + botName "B": the same prefix string
    expect(codeOf(() => v.verify(one.botName, "dev", signAuth(one, now, { clientType: "X" }), now, memo))).toBe("OK");
    const cross = { ...signAuth(one, now + 1, { clientType: "X" }), clientType: "X|A", botName: "B" };
    expect(codeOf(() => v.verify(two.botName, "dev", cross, now, memo))).toBe("AUTH_BAD_SIGNATURE");
    expect(codeOf(() => v.verify(two.botName, "dev", signAuth(two, now + 2, { clientType: "X|A" }), now, memo))).toBe("OK");
    expect(codeOf(() => v.verify(one.botName, "dev", signAuth(one, now + 3, { clientType: "X" }), now, memo))).toBe("OK");
    // device: dev1's signature with dev2's fields, in dev2's session, while the memo holds dev1's state
    const d1 = { ...id, deviceId: "device-1" };
    const d2 = { ...id, deviceId: "device-2" };
    const w = new AuthVerifier(bots, 300_000);
    const m = newAuthMemo();
    expect(codeOf(() => w.verify(id.botName, d1.deviceId, signAuth(d1, now), now, m))).toBe("OK");
    const forged = { ...signAuth(d1, now + 1), deviceUUID: d2.deviceId, deviceID: d2.deviceId };
    expect(codeOf(() => w.verify(id.botName, d2.deviceId, forged, now, m))).toBe("AUTH_BAD_SIGNATURE");
    expect(codeOf(() => w.verify(id.botName, d2.deviceId, signAuth(d2, now + 2), now, m))).toBe("OK");
    v.dispose();
    w.dispose();
  });

  test("any object with an authPrefix field is a memo (the session is its own)", () => {
    const v = new AuthVerifier(bots, 300_000);
    const session: { botName: string; authPrefix: AuthPrefix | null } = { botName: id.botName, authPrefix: null };
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now), now, session))).toBe("OK");
    expect(session.authPrefix).not.toBeNull();
    expect(prefixLookups(() => expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now + 1), now, session))).toBe("OK"))).toEqual([]);
    v.dispose();
  });

  test("with or without a memo, the same codes on random fields that contain '|' (prefix strings that coincide)", () => {
    let seed = 0x1234567;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const parts = ["a", "a|b", "b", "|", "", "a|", "|b", "ab"];
    const withMemo = new AuthVerifier(bots, 300_000, { prefixCacheMax: 4 });
    const plain = new AuthVerifier(bots, 300_000, { prefixCacheMax: 4 });
    const memos = [newAuthMemo(), newAuthMemo()];
    let ts = now - 100_000;
    const codes = new Set<string>();
    const sent: Record<string, unknown>[] = [];
    for (let i = 0; i < 3000; i++) {
      const signed = { ...id, macAddress: pick(parts), ipAddress: pick(parts) };
      const a = signAuth(signed, ts++, { clientType: pick(["M", "M|"]) });
      const r = rand();
      // present other fields with the same signature: sometimes the same concatenation, sometimes not
      if (r < 0.4) Object.assign(a, { macAddress: pick(parts), ipAddress: pick(parts) });
      else if (r < 0.5) a.clientType = pick(["M", "M|", "M|a"]);
      const block = rand() < 0.05 && sent.length > 0 ? pick(sent) : a; // sometimes a replay
      sent.push(block);
      const memo = pick(memos);
      const got = codeOf(() => withMemo.verify(id.botName, id.deviceId, block, now, memo));
      expect(got).toBe(codeOf(() => plain.verify(id.botName, id.deviceId, block, now)));
      codes.add(got);
    }
    expect([...codes].sort()).toEqual(["AUTH_BAD_SIGNATURE", "AUTH_REPLAY", "OK"]);
    withMemo.dispose();
    plain.dispose();
  });
  test("makePrefixState false: verified from the whole string, no prefix state kept; a state made later is then used", () => {
    const v = new AuthVerifier(bots, 300_000);
    const memo = newAuthMemo();
    // pings of an idle phone: verified, replays refused, forgeries refused, nothing cached
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now), now, memo, false))).toBe("OK");
    expect(codeOf(() => v.verify(id.botName, id.deviceId, signAuth(id, now), now, memo, false))).toBe("AUTH_REPLAY");
    const forged = signAuth(id, now + 1);
    forged.timestamp = now + 2;
    expect(codeOf(() => v.verify(id.botName, id.deviceId, forged, now, memo, false))).toBe("AUTH_BAD_SIGNATURE");
    expect(v.prefixStates).toBe(0);
    expect(memo.authPrefix).toBeNull();
    // a batch mixing both kinds, and long Korean/emoji fields (the arena grows under the MAC)
    const long = { ...id, deviceId: id.deviceId };
    const items = [
      v.check(id.botName, id.deviceId, signAuth(id, now + 3), now, memo, false),
      v.check(id.botName, id.deviceId, signAuth(id, now + 4), now, memo, true),
      v.check(id.botName, id.deviceId, signAuth(long, now + 5, { macAddress: "맥".repeat(250), ipAddress: "🌐".repeat(120) }), now, undefined, false),
      v.check(id.botName, id.deviceId, signAuth(id, now + 6), now, memo, false), // the memo now holds a state: used
    ];
    v.verifyPrepared(items);
    expect(items.map((it) => codeOf(() => v.commit(it)))).toEqual(["OK", "OK", "OK", "OK"]);
    expect(v.prefixStates).toBe(1);
    expect(memo.authPrefix).not.toBeNull();
    // many long whole-string items in one read: the arena grows while an item's MAC is in it
    const many = Array.from({ length: 40 }, (_, k) =>
      v.check(id.botName, id.deviceId, signAuth(id, now + 100 + k, { macAddress: "맥".repeat(200 + k), ipAddress: "🌐".repeat(100) }), now, undefined, false),
    );
    v.verifyPrepared(many);
    expect(many.every((it) => it.macOk)).toBe(true);
    expect(v.prefixStates).toBe(1);
    v.dispose();
  });
});
