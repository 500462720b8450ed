// The ONE suite every DeviceStore backend must pass. Adding a backend means passing this.
import { afterEach, describe, expect, test } from "bun:test";
import { LIMITS } from "../../src/store/validate.ts";
import {
  DEVICE_STATUSES,
  StoreError,
  trimEvery,
  type DeviceStore,
  type HandshakeUpsert,
  type PingRecord,
} from "../../src/store/types.ts";

export interface StoreHarness {
  store: DeviceStore;
  /** Makes the backend fail underneath an open store (stop the server, ...). Optional. */
  breakBackend?: () => Promise<void>;
  /** Releases whatever the factory created (files, servers, tables). */
  cleanup?: () => Promise<void>;
}

/** Must return a store over EMPTY tables. */
export type StoreFactory = (opts: { pingRetention?: number; trimMaxRows?: number }) => Promise<StoreHarness>;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function hs(over: Partial<HandshakeUpsert> = {}): HandshakeUpsert {
  return {
    botName: "LOA.i",
    deviceId: "ccbd8eee1012327e",
    ipAddress: "192.168.1.100",
    clientType: "MessengerBotR",
    clientVersion: "3.2.1",
    clientInfo: "samsung SM-G991N (Android 13, API 33)",
    ...over,
  };
}

async function expectStoreError(p: Promise<unknown>, pattern?: RegExp): Promise<StoreError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StoreError);
  const e = caught as StoreError;
  expect(e.name).toBe("StoreError");
  if (pattern) expect(e.message).toMatch(pattern);
  return e;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function describeDeviceStoreConformance(name: string, factory: StoreFactory): void {
  describe(`DeviceStore conformance: ${name}`, () => {
    const open: StoreHarness[] = [];
    async function make(opts: { pingRetention?: number; trimMaxRows?: number } = {}): Promise<DeviceStore> {
      const h = await factory(opts);
      open.push(h);
      return h.store;
    }
    afterEach(async () => {
      for (const h of open.splice(0)) {
        await h.store.close().catch(() => {});
        await h.cleanup?.();
      }
    });

    test("exports the five legacy statuses", () => {
      expect([...DEVICE_STATUSES]).toEqual(["pending", "approved", "denied", "revoked", "blocked"]);
    });

    test("upsert inserts a new device with the initial status", async () => {
      const store = await make();
      const rec = await store.upsertOnHandshake(hs(), "pending");
      expect(rec).toMatchObject({ ...hs(), status: "pending", description: null });
      expect(rec.id).toBeGreaterThan(0);
      expect(rec.createdAt).toMatch(ISO);
      expect(rec.updatedAt).toBe(rec.createdAt);
      expect(await store.get("LOA.i", "ccbd8eee1012327e")).toEqual(rec);
    });

    test("upsert of an existing device updates ip/client fields and keeps status, id, created_at", async () => {
      const store = await make();
      const first = await store.upsertOnHandshake(hs(), "pending");
      await store.setStatus("LOA.i", "ccbd8eee1012327e", "approved", "owner's phone");
      await sleep(5);
      const again = await store.upsertOnHandshake(
        hs({ ipAddress: null, clientVersion: "3.2.2", clientInfo: null, clientType: "Other" }),
        "pending",
      );
      expect(again).toMatchObject({
        id: first.id,
        status: "approved",
        description: "owner's phone",
        ipAddress: null,
        clientVersion: "3.2.2",
        clientInfo: null,
        clientType: "Other",
        createdAt: first.createdAt,
      });
      expect(again.updatedAt > first.updatedAt).toBe(true);
    });

    test("(bot_name, device_id) is the unique key", async () => {
      const store = await make();
      const a = await store.upsertOnHandshake(hs(), "pending");
      const b = await store.upsertOnHandshake(hs({ botName: "other" }), "approved");
      const c = await store.upsertOnHandshake(hs({ deviceId: "unknown" }), "denied");
      const a2 = await store.upsertOnHandshake(hs(), "blocked");
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      expect(a2.id).toBe(a.id);
      expect(a2.status).toBe("pending");
      // Keys compare exactly: case differs -> another device.
      const upper = await store.upsertOnHandshake(hs({ botName: "LOA.I" }), "pending");
      expect(upper.id).not.toBe(a.id);
      expect((await store.list({ limit: 100, offset: 0 })).total).toBe(4);
    });

    test("get returns null for a missing device", async () => {
      const store = await make();
      expect(await store.get("nobody", "nothing")).toBeNull();
    });

    test("list filters by bot and status, pages, and counts the total", async () => {
      const store = await make();
      for (let i = 0; i < 7; i++) await store.upsertOnHandshake(hs({ botName: "A", deviceId: `d${i}` }), "pending");
      for (let i = 0; i < 3; i++) await store.upsertOnHandshake(hs({ botName: "B", deviceId: `d${i}` }), "pending");
      await store.setStatus("A", "d1", "approved");
      await store.setStatus("A", "d4", "approved");
      await store.setStatus("B", "d0", "approved");

      const all = await store.list({ limit: 100, offset: 0 });
      expect(all.total).toBe(10);
      expect(all.items.map((d) => d.id)).toEqual([...all.items.map((d) => d.id)].sort((x, y) => x - y));

      const a = await store.list({ botName: "A", limit: 3, offset: 0 });
      expect(a.total).toBe(7);
      expect(a.items.map((d) => d.deviceId)).toEqual(["d0", "d1", "d2"]);
      const a2 = await store.list({ botName: "A", limit: 3, offset: 6 });
      expect(a2.total).toBe(7);
      expect(a2.items.map((d) => d.deviceId)).toEqual(["d6"]);
      const beyond = await store.list({ botName: "A", limit: 3, offset: 50 });
      expect(beyond).toEqual({ items: [], total: 7 });

      const approved = await store.list({ status: "approved", limit: 10, offset: 0 });
      expect(approved.total).toBe(3);
      const aApproved = await store.list({ botName: "A", status: "approved", limit: 1, offset: 1 });
      expect(aApproved.total).toBe(2);
      expect(aApproved.items.map((d) => d.deviceId)).toEqual(["d4"]);

      const zero = await store.list({ botName: "A", limit: 0, offset: 0 });
      expect(zero).toEqual({ items: [], total: 7 });
      expect(await store.list({ botName: "nobody", limit: 10, offset: 0 })).toEqual({ items: [], total: 0 });
    });

    test("setStatus sets status/description and returns the row; missing rows give null", async () => {
      const store = await make();
      await store.upsertOnHandshake(hs(), "pending");
      const r1 = await store.setStatus("LOA.i", "ccbd8eee1012327e", "denied", "stolen");
      expect(r1).toMatchObject({ status: "denied", description: "stolen" });
      const r2 = await store.setStatus("LOA.i", "ccbd8eee1012327e", "revoked");
      expect(r2).toMatchObject({ status: "revoked", description: "stolen" }); // undefined keeps
      const r3 = await store.setStatus("LOA.i", "ccbd8eee1012327e", "approved", null);
      expect(r3).toMatchObject({ status: "approved", description: null }); // null clears
      expect(await store.setStatus("LOA.i", "missing", "approved")).toBeNull();
      expect(await store.get("LOA.i", "missing")).toBeNull(); // no row created
    });

    test("delete removes the device and its pings; missing rows give false", async () => {
      const store = await make();
      await store.upsertOnHandshake(hs(), "pending");
      await store.recordPing({ botName: "LOA.i", deviceId: "ccbd8eee1012327e", rttMs: 12, monitoring: null, at: new Date().toISOString() });
      expect(await store.delete("LOA.i", "ccbd8eee1012327e")).toBe(true);
      expect(await store.get("LOA.i", "ccbd8eee1012327e")).toBeNull();
      expect(await store.listPings("LOA.i", "ccbd8eee1012327e", 10)).toEqual([]);
      expect(await store.delete("LOA.i", "ccbd8eee1012327e")).toBe(false);
      expect(await store.delete("nobody", "nothing")).toBe(false);
    });

    test("pings round-trip newest first and keep only pingRetention rows per device", async () => {
      const store = await make({ pingRetention: 3 });
      const base = Date.parse("2025-01-20T06:30:45.000Z");
      for (let i = 0; i < 6; i++) {
        await store.recordPing({
          botName: "LOA.i",
          deviceId: "dev1",
          rttMs: i === 5 ? null : 10 + i + 0.5,
          monitoring: i === 5 ? null : { total_memory: 2048.0, memory_percent: 25.5, message_queue_size: i, active_rooms: 10 },
          at: new Date(base + i * 30_000).toISOString(),
        });
      }
      await store.recordPing({ botName: "LOA.i", deviceId: "dev2", rttMs: 1, monitoring: {}, at: new Date(base).toISOString() });

      const pings = await store.listPings("LOA.i", "dev1", 100);
      expect(pings).toHaveLength(3);
      expect(pings[0]).toEqual({ botName: "LOA.i", deviceId: "dev1", rttMs: null, monitoring: null, at: new Date(base + 150_000).toISOString() });
      expect(pings[1]).toEqual({
        botName: "LOA.i",
        deviceId: "dev1",
        rttMs: 14.5,
        monitoring: { total_memory: 2048, memory_percent: 25.5, message_queue_size: 4, active_rooms: 10 },
        at: new Date(base + 120_000).toISOString(),
      });
      expect(pings[2]!.monitoring).toMatchObject({ message_queue_size: 3 });
      expect(await store.listPings("LOA.i", "dev1", 2)).toEqual(pings.slice(0, 2));
      expect(await store.listPings("LOA.i", "dev2", 10)).toHaveLength(1); // other device untouched
      expect(await store.listPings("LOA.i", "none", 10)).toEqual([]);
    });

    test("a device far over its retention is trimmed at most trimMaxRows rows per write, then caught up on its next pings", async () => {
      const store = await make({ pingRetention: 3, trimMaxRows: 5 });
      const base = Date.parse("2025-01-20T06:30:45.000Z");
      const ping = (i: number) => ({ botName: "LOA.i", deviceId: "긴기록📱", rttMs: i, monitoring: null, at: new Date(base + i * 1000).toISOString() });
      await store.recordPings(Array.from({ length: 20 }, (_, i) => ping(i))); // due at once: 17 over, 5 go
      const rows = async () => (await store.listPings("LOA.i", "긴기록📱", 100)).length;
      expect(await rows()).toBe(15);
      const seen = [15];
      for (let i = 20; seen.at(-1)! > 3 && i < 40; i++) {
        await store.recordPing(ping(i)); // each write trims again while the device is behind
        seen.push(await rows());
      }
      expect(seen).toEqual([15, 11, 7, 3]);
      expect((await store.listPings("LOA.i", "긴기록📱", 10)).map((p) => p.rttMs)).toEqual([22, 21, 20]); // the newest kept
      await store.recordPing(ping(40));
      expect(await rows()).toBe(3); // caught up (N <= 10: trimmed to exactly N on every ping)
    });

    test("default ping retention keeps the 1000 newest rows", async () => {
      const store = await make();
      const at = new Date().toISOString();
      for (let i = 0; i < 1002; i++) {
        await store.recordPing({ botName: "r", deviceId: "d", rttMs: i, monitoring: null, at });
      }
      const pings = await store.listPings("r", "d", 1000);
      expect(pings).toHaveLength(1000);
      expect(pings[0]!.rttMs).toBe(1001);
      expect(pings[999]!.rttMs).toBe(2);
    });

    const ping = (deviceId: string, rttMs: number | null, over: Partial<PingRecord> = {}): PingRecord => ({
      botName: "LOA.i",
      deviceId,
      rttMs,
      monitoring: null,
      at: new Date(Date.parse("2025-01-20T06:30:45.000Z") + (rttMs ?? 0) * 1000).toISOString(),
      ...over,
    });
    const rtts = (ps: PingRecord[]) => ps.map((p) => p.rttMs);

    test("recordPings stores a batch of mixed devices in array order, Korean and emoji included", async () => {
      const store = await make();
      const bot = "로아봇🤖";
      const batch: PingRecord[] = [
        ping("dev1", 1),
        ping("dev2", 2, { monitoring: { room: "방 🏠", note: "메모 \"q\" 'x' \\ 🇰🇷\n", n: 1.5 } }),
        ping("dev1", 3),
        ping("기기-😀", 4, { botName: bot, monitoring: { 상태: "정상 ✅" } }),
        ping("dev1", 5, { monitoring: { total_memory: 2048, memory_percent: 25.5 } }),
        ping("dev2", null),
      ];
      await store.recordPings(batch);
      expect(await store.listPings("LOA.i", "dev1", 10)).toEqual([batch[4]!, batch[2]!, batch[0]!]);
      expect(await store.listPings("LOA.i", "dev2", 10)).toEqual([batch[5]!, batch[1]!]);
      expect(await store.listPings(bot, "기기-😀", 10)).toEqual([batch[3]!]);
      await store.recordPings([ping("dev1", 6)]);
      await store.recordPing(ping("dev1", 7));
      expect(rtts(await store.listPings("LOA.i", "dev1", 10))).toEqual([7, 6, 5, 3, 1]);
    });

    test("recordPings of an empty batch writes nothing; a closed store still rejects it", async () => {
      const store = await make();
      await store.recordPings([]);
      expect(await store.listPings("LOA.i", "dev1", 10)).toEqual([]);
      await store.close();
      expect((await expectStoreError(store.recordPings([]))).invalidInput).toBe(false);
      expect((await expectStoreError(store.recordPings([ping("dev1", 1)]))).invalidInput).toBe(false);
    });

    test("one invalid item rejects the whole batch with StoreError and writes nothing", async () => {
      const store = await make();
      const ok = [ping("dev1", 1), ping("dev2", 2)];
      // Refused input is marked as such (BAD_REQUEST for callers), unlike a failing store (closed store above).
      expect((await expectStoreError(store.recordPings([...ok, ping("dev1", -1)]), /rttMs/)).invalidInput).toBe(true);
      expect((await expectStoreError(store.recordPings([...ok, ping("", 3)]), /deviceId/)).invalidInput).toBe(true);
      await expectStoreError(store.recordPings([ping("dev1", 3, { at: "yesterday" }), ...ok]), /at/);
      await expectStoreError(store.recordPings([...ok, ping("dev1", 4, { monitoring: { big: "x".repeat(LIMITS.monitoringJson) } })]), /monitoring/);
      await expectStoreError(store.recordPings([...ok, null as never]), /ping/);
      expect((await expectStoreError(store.recordPings("nope" as never))).invalidInput).toBe(true);
      expect(await store.listPings("LOA.i", "dev1", 10)).toEqual([]);
      expect(await store.listPings("LOA.i", "dev2", 10)).toEqual([]);
      await store.recordPings(ok); // the store is still usable
      expect(await store.listPings("LOA.i", "dev1", 10)).toHaveLength(1);
    });

    test("recordPings trims each device of the batch to pingRetention (N <= 10: exact)", async () => {
      const store = await make({ pingRetention: 3 });
      await store.recordPings([
        ...Array.from({ length: 10 }, (_, i) => ping("dev1", i)),
        ping("dev2", 100),
        ping("dev2", 101),
      ]);
      expect(rtts(await store.listPings("LOA.i", "dev1", 100))).toEqual([9, 8, 7]);
      expect(rtts(await store.listPings("LOA.i", "dev2", 100))).toEqual([101, 100]);
      for (let i = 10; i < 15; i++) {
        await store.recordPings([ping("dev1", i), ping("dev2", 90 + i)]);
        expect(rtts(await store.listPings("LOA.i", "dev1", 100))).toEqual([i, i - 1, i - 2]);
        expect((await store.listPings("LOA.i", "dev2", 100)).length).toBeLessThanOrEqual(3);
      }
    });

    test("amortized retention: at most N + ceil(N/10) - 1 rows, back to exactly N every ceil(N/10) pings", async () => {
      const N = 40;
      const every = trimEvery(N);
      expect(every).toBe(4);
      const store = await make({ pingRetention: N });
      // The first ping this store writes for a device trims it, whatever was there before.
      await store.recordPings(Array.from({ length: N + 25 }, (_, i) => ping("dev1", i)));
      expect((await store.listPings("LOA.i", "dev1", 1000)).length).toBe(N);
      const counts: number[] = [];
      for (let i = N + 25; i < N + 25 + 3 * every; i++) {
        await store.recordPing(ping("dev1", i));
        const all = await store.listPings("LOA.i", "dev1", 1000);
        counts.push(all.length);
        expect(all.length).toBeLessThanOrEqual(N + every - 1);
        expect(rtts(all.slice(0, N))).toEqual(Array.from({ length: N }, (_, k) => i - k)); // newest N always there
      }
      expect(counts).toEqual([N + 1, N + 2, N + 3, N, N + 1, N + 2, N + 3, N, N + 1, N + 2, N + 3, N]);
      // A batch that reaches the trim point ends exactly at N.
      await store.recordPings(Array.from({ length: every * 2 + 1 }, (_, k) => ping("dev1", 1000 + k)));
      expect((await store.listPings("LOA.i", "dev1", 1000)).length).toBe(N);
    });

    test("Korean and emoji (4-byte UTF-8) round-trip, up to the column limit in characters", async () => {
      const store = await make();
      const bot = "로아봇🤖";
      const dev = "기기-😀-𝌆";
      const rec = await store.upsertOnHandshake(
        hs({ botName: bot, deviceId: dev, clientInfo: "갤럭시 S21 🇰🇷 \"quoted\" 'single' \\ back\nline", clientType: "메신저봇R" }),
        "pending",
      );
      expect(rec.botName).toBe(bot);
      expect(rec.deviceId).toBe(dev);
      const set = await store.setStatus(bot, dev, "approved", "승인됨 ✅🎉");
      expect(set?.description).toBe("승인됨 ✅🎉");
      const got = await store.get(bot, dev);
      expect(got).toMatchObject({ botName: bot, deviceId: dev, clientType: "메신저봇R", clientInfo: rec.clientInfo, description: "승인됨 ✅🎉" });
      expect((await store.list({ botName: bot, limit: 5, offset: 0 })).total).toBe(1);

      await store.recordPing({ botName: bot, deviceId: dev, rttMs: 3, monitoring: { room: "방 🏠", n: 1 }, at: new Date().toISOString() });
      expect((await store.listPings(bot, dev, 1))[0]!.monitoring).toEqual({ room: "방 🏠", n: 1 });

      const maxBot = "😀".repeat(LIMITS.botName); // 100 characters, 400 bytes
      const max = await store.upsertOnHandshake(hs({ botName: maxBot }), "pending");
      expect(max.botName).toBe(maxBot);
    });

    test("invalid input throws StoreError and writes nothing", async () => {
      const store = await make();
      await expectStoreError(store.upsertOnHandshake(hs(), "bogus" as never), /status/);
      await expectStoreError(store.upsertOnHandshake(hs({ botName: "" }), "pending"), /botName/);
      await expectStoreError(store.upsertOnHandshake(hs({ deviceId: "" }), "pending"), /deviceId/);
      await expectStoreError(store.upsertOnHandshake(hs({ deviceId: " x " }), "pending"), /whitespace/);
      // URL parsers drop these path segments: the admin API could never block such a device
      await expectStoreError(store.upsertOnHandshake(hs({ deviceId: ".." }), "pending"), /"\." or "\.\."/);
      await expectStoreError(store.upsertOnHandshake(hs({ deviceId: "." }), "pending"), /deviceId/);
      await expectStoreError(store.upsertOnHandshake(hs({ botName: "b".repeat(LIMITS.botName + 1) }), "pending"), /longer/);
      await expectStoreError(store.upsertOnHandshake(hs({ botName: "😀".repeat(LIMITS.botName + 1) }), "pending"), /longer/);
      await expectStoreError(store.upsertOnHandshake(hs({ clientInfo: "i".repeat(LIMITS.clientInfo + 1) }), "pending"), /clientInfo/);
      await expectStoreError(store.upsertOnHandshake(hs({ clientVersion: 3 as never }), "pending"), /clientVersion/);
      await expectStoreError(store.upsertOnHandshake(hs({ clientType: "bad\uD800" }), "pending"), /surrogate/);
      await expectStoreError(store.upsertOnHandshake(hs({ clientType: "nul\0" }), "pending"), /NUL/);
      expect((await store.list({ limit: 100, offset: 0 })).total).toBe(0);

      await store.upsertOnHandshake(hs(), "pending");
      await expectStoreError(store.setStatus("LOA.i", "ccbd8eee1012327e", "gone" as never), /status/);
      await expectStoreError(store.setStatus("LOA.i", "ccbd8eee1012327e", "approved", "d".repeat(LIMITS.description + 1)), /description/);
      expect((await store.get("LOA.i", "ccbd8eee1012327e"))?.status).toBe("pending");
      await expectStoreError(store.get("", "x"), /botName/);
      await expectStoreError(store.delete("LOA.i", ""), /deviceId/);
      await expectStoreError(store.list({ status: "nope" as never, limit: 1, offset: 0 }), /status/);
      await expectStoreError(store.list({ limit: -1, offset: 0 }), /limit/);
      await expectStoreError(store.list({ limit: 1.5, offset: 0 }), /limit/);
      await expectStoreError(store.list({ limit: 10, offset: -3 }), /offset/);
      const ping = { botName: "LOA.i", deviceId: "ccbd8eee1012327e", rttMs: 5, monitoring: null, at: new Date().toISOString() };
      await expectStoreError(store.recordPing({ ...ping, rttMs: Number.NaN }), /rttMs/);
      await expectStoreError(store.recordPing({ ...ping, rttMs: -1 }), /rttMs/);
      await expectStoreError(store.recordPing({ ...ping, at: "yesterday" }), /at/);
      await expectStoreError(store.recordPing({ ...ping, monitoring: [] as never }), /monitoring/);
      await expectStoreError(store.recordPing({ ...ping, monitoring: { big: "x".repeat(LIMITS.monitoringJson) } }), /monitoring/);
      await expectStoreError(store.listPings("LOA.i", "ccbd8eee1012327e", -1), /limit/);
      expect(await store.listPings("LOA.i", "ccbd8eee1012327e", 10)).toEqual([]);
      expect((await store.list({ limit: 100, offset: 0 })).total).toBe(1);
    });

    test("concurrent upserts of the same key yield one row", async () => {
      const store = await make();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.upsertOnHandshake(hs({ ipAddress: `10.0.0.${i}` }), "pending")),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      const page = await store.list({ limit: 100, offset: 0 });
      expect(page.total).toBe(1);
      expect(page.items[0]!.status).toBe("pending");
    });

    test("healthCheck passes on an open store", async () => {
      const store = await make();
      await store.healthCheck();
    });

    test("a closed store throws StoreError from every method", async () => {
      const store = await make();
      await store.upsertOnHandshake(hs(), "pending");
      await store.close();
      await store.close(); // idempotent
      await expectStoreError(store.healthCheck());
      await expectStoreError(store.get("LOA.i", "ccbd8eee1012327e"));
      await expectStoreError(store.upsertOnHandshake(hs(), "pending"));
      await expectStoreError(store.list({ limit: 1, offset: 0 }));
      await expectStoreError(store.setStatus("LOA.i", "ccbd8eee1012327e", "approved"));
      await expectStoreError(store.delete("LOA.i", "ccbd8eee1012327e"));
      await expectStoreError(store.recordPing({ botName: "a", deviceId: "b", rttMs: 1, monitoring: null, at: new Date().toISOString() }));
      await expectStoreError(store.recordPings([{ botName: "a", deviceId: "b", rttMs: 1, monitoring: null, at: new Date().toISOString() }]));
      await expectStoreError(store.listPings("a", "b", 1));
    });

    test("a backend that fails underneath an open store gives StoreError with the cause kept", async () => {
      const h = await factory({});
      open.push(h);
      if (!h.breakBackend) return; // the backend has no separable server (SQLite): covered by close()
      await h.store.upsertOnHandshake(hs(), "pending");
      await h.breakBackend();
      const e = await expectStoreError(h.store.healthCheck());
      expect(e.cause).toBeInstanceOf(Error); // the driver's error is kept
      expect(e.invalidInput).toBe(false); // an outage, not a refusal of the input
      await expectStoreError(h.store.get("LOA.i", "ccbd8eee1012327e"));
      await expectStoreError(h.store.upsertOnHandshake(hs(), "pending"));
    });
  });
}
