import { describe, expect, test } from "bun:test";
import { storableAddress } from "../../src/gateway/gateway.ts";
import { LIMITS } from "../../src/store/validate.ts";

describe("storableAddress", () => {
  test("an IPv6 zone is dropped (a link-local phone on the LAN); other addresses stay as they are", () => {
    const linkLocal = "fe80:0000:0000:0000:1234:5678:9abc:def0%enp0s31f6-wireless";
    expect(linkLocal.length).toBeGreaterThan(LIMITS.ipAddress); // the store would refuse it whole
    expect(storableAddress(linkLocal)).toBe("fe80:0000:0000:0000:1234:5678:9abc:def0");
    for (const a of ["203.0.113.7", "::ffff:203.0.113.7", "2001:db8::1", "::1"]) expect(storableAddress(a)).toBe(a);
  });
});
