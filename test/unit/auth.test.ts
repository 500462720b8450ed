import { describe, expect, test } from "bun:test";
import { AuthVerifier } from "../../src/protocol/auth.ts";
import { BotgateError } from "../../src/errors.ts";
import { signAuth } from "../support/phone.ts";

const id = { botName: "LOA.i", deviceId: "ccbd8eee1012327e", secret: "비밀키-secret-0123456789", salt: "소금🧂" };
const now = 1_737_354_645_123;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as BotgateError).code;
  }
  return "OK";
}

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
