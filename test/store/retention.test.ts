import { describe, expect, test } from "bun:test";
import { TrimSchedule, countByDevice, deviceKey } from "../../src/store/retention.ts";
import { trimEvery } from "../../src/store/types.ts";
import { ping as validatePing } from "../../src/store/validate.ts";

describe("TrimSchedule", () => {
  test("trimEvery is ceil(N/10), at least 1", () => {
    expect([1, 3, 10, 11, 40, 1000, 1001].map(trimEvery)).toEqual([1, 1, 1, 2, 4, 100, 101]);
  });

  test("an unknown device is due at once, then every ceil(N/10) pings; batches count their size", () => {
    const t = new TrimSchedule(40); // every 4
    const k = deviceKey("bot", "dev");
    expect(t.due(k, 1)).toBe(true);
    expect([t.due(k, 1), t.due(k, 1), t.due(k, 1), t.due(k, 1)]).toEqual([false, false, false, true]);
    expect(t.due(k, 3)).toBe(false);
    expect(t.due(k, 1)).toBe(true); // 3 + 1 reaches 4
    expect(t.due(k, 9)).toBe(true); // a big batch is trimmed in the same write
  });

  test("forget and eviction make a device due on its next ping; tracking stays bounded", () => {
    const t = new TrimSchedule(1000, 3);
    for (const d of ["a", "b", "c"]) t.due(deviceKey("bot", d), 1);
    expect(t.due(deviceKey("bot", "a"), 1)).toBe(false);
    t.forget(deviceKey("bot", "a"));
    expect(t.due(deviceKey("bot", "a"), 1)).toBe(true);
    expect(t.due(deviceKey("bot", "d"), 1)).toBe(true); // evicts the oldest entry ("b")
    expect(t.tracked).toBe(3);
    expect(t.due(deviceKey("bot", "b"), 1)).toBe(true);
    expect(t.tracked).toBe(3);
  });

  test("countByDevice groups a batch by (bot, device) in first-seen order", () => {
    const rows = [
      { botName: "a", deviceId: "x" },
      { botName: "a", deviceId: "y" },
      { botName: "a", deviceId: "x" },
      { botName: "a\0x", deviceId: "x" },
    ];
    expect([...countByDevice(rows).values()].map((e) => [e.row.botName, e.row.deviceId, e.n])).toEqual([
      ["a", "x", 2],
      ["a", "y", 1],
      ["a\0x", "x", 1],
    ]);
  });
});

describe("countByDevice with the caller's key", () => {
  test("a record's key is used as is", () => {
    const key = deviceKey("bot", "dev");
    const m = countByDevice([
      { botName: "bot", deviceId: "dev", key },
      { botName: "bot", deviceId: "dev" },
      { botName: "bot", deviceId: "other" },
    ]);
    expect([...m.entries()].map(([k, v]) => [k, v.n])).toEqual([
      [key, 2],
      [deviceKey("bot", "other"), 1],
    ]);
  });

  test("a stored ping row keeps the caller's key only if it is exactly the device's key", () => {
    const base = { botName: "봇", deviceId: "기기-1", rttMs: 12, monitoring: null, at: new Date(0).toISOString() };
    const key = deviceKey("봇", "기기-1");
    expect(validatePing({ ...base, key }).key).toBe(key);
    for (const wrong of [deviceKey("봇", "기기-2"), deviceKey("봇x", "기기-1"), "봇|기기-1", `${key}x`, ""]) {
      expect(validatePing({ ...base, key: wrong }).key).toBeUndefined();
    }
    expect(validatePing(base).key).toBeUndefined();
  });
});
