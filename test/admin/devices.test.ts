import { describe, expect, test } from "bun:test";
import { BOT, identity, startTestGateway, until } from "../support/harness.ts";
import { LegacyPhone } from "../support/phone.ts";
import { AUTH, adminFor, call, phoneOn, perTest } from "./helpers.ts";

const fx = perTest();

/** Bot without autoApprove: phones register as pending. */
async function pendingGateway(extra: Record<string, unknown> = {}) {
  fx.gw = await startTestGateway({ bots: [{ ...BOT, autoApprove: false }], ...extra });
  return adminFor(fx.gw);
}

async function connect(device: string) {
  const { phone, hello } = await phoneOn(fx.gw!.port, device);
  fx.phones.push(phone);
  return { phone, hello };
}

const path = (device: string) => `/api/devices/${encodeURIComponent(BOT.name)}/${encodeURIComponent(device)}`;

describe("GET /api/devices", () => {
  test("lists registered devices with their live state, filters by bot and status, pages", async () => {
    const app = await pendingGateway();
    await connect("dev-1");
    const { phone: p2 } = await connect("dev-2");
    await connect("dev-3");
    await fx.gw!.app.gateway.store.setStatus(BOT.name, "dev-3", "approved");
    p2.destroy();
    await until(() => fx.gw!.app.gateway.getSession(BOT.name, "dev-2") === undefined, 3000, "dev-2 gone");

    const all = await call(app, "GET", "/api/devices");
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(3);
    const byId = Object.fromEntries(all.json.items.map((d: any) => [d.deviceId, d]));
    expect(byId["dev-1"]).toMatchObject({ botName: BOT.name, status: "pending", connected: true, clientVersion: "3.2.1" });
    expect(byId["dev-2"]).toMatchObject({ connected: false, sessionId: null });

    const pending = await call(app, "GET", `/api/devices?status=pending&bot=${encodeURIComponent(BOT.name)}`);
    expect(pending.json.items.map((d: any) => d.deviceId).sort()).toEqual(["dev-1", "dev-2"]);
    expect((await call(app, "GET", "/api/devices?bot=NoSuchBot")).json).toMatchObject({ total: 0, items: [] });

    const page = await call(app, "GET", "/api/devices?limit=2&offset=2");
    expect(page.json).toMatchObject({ total: 3, limit: 2, offset: 2 });
    expect(page.json.items.length).toBe(1);
  });

  test("invalid filters are a 400 naming each field", async () => {
    const app = await pendingGateway();
    const r = await call(app, "GET", "/api/devices?status=online&limit=5000&bot=%20x");
    expect(r.status).toBe(400);
    expect(r.json.error.fields.map((f: any) => f.path).sort()).toEqual(["bot", "limit", "status"]);
  });
});

describe("GET /api/devices/:bot/:device", () => {
  test("one device, or 404", async () => {
    const app = await pendingGateway();
    await connect("dev-1");
    expect((await call(app, "GET", path("dev-1"))).json).toMatchObject({ deviceId: "dev-1", status: "pending", connected: true });
    expect((await call(app, "GET", path("nope"))).status).toBe(404);
  });
});

describe("PATCH /api/devices/:bot/:device", () => {
  test("approve applies to the live session at once: its next message reaches the bot", async () => {
    const app = await pendingGateway();
    const { phone, hello } = await connect("dev-1");
    expect(hello.data.approved).toBe(false);
    const r = await call(app, "PATCH", path("dev-1"), { action: "approve", description: "front desk phone" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: "approved", description: "front desk phone", connected: true });
    expect(fx.gw!.app.gateway.getSession(BOT.name, "dev-1")!.status).toBe("approved");
    phone.write(phone.analyzeLine({ text: "!ping" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    expect((await fx.gw!.app.gateway.store.get(BOT.name, "dev-1"))!.status).toBe("approved");
  });

  test("a description the store refuses (NUL, lone surrogate) is a 400 with the reason, not a store outage", async () => {
    const app = await pendingGateway();
    await connect("dev-1");
    for (const description of ["a\u0000b", "a\ud800b"]) {
      const r = await call(app, "PATCH", path("dev-1"), { action: "approve", description });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("BAD_REQUEST");
      expect(r.json.error.message).toMatch(/^description contains a (NUL character|lone surrogate)/);
    }
    expect((await fx.gw!.app.gateway.store.get(BOT.name, "dev-1"))!.status).toBe("pending");
  });

  test("block closes the live session with DEVICE_BLOCKED; its reconnect is refused", async () => {
    const app = await pendingGateway();
    const { phone } = await connect("dev-1");
    const r = await call(app, "PATCH", path("dev-1"), { action: "block" });
    expect(r.json.status).toBe("blocked");
    expect((await phone.next((f) => f.event === "error")).data.code).toBe("DEVICE_BLOCKED");
    await phone.waitClosed();
    const again = await connect("dev-1");
    expect(again.hello.data.success).toBe(false);
  });

  test("block reaches a newcomer that has not yet proven the secret: its proof does not bring the device back", async () => {
    const app = await pendingGateway({ bots: [{ ...BOT, autoApprove: true }] });
    const { phone: first } = await connect("dev-1");
    const { phone: second } = await connect("dev-1"); // same device: must prove the secret first
    const challenge = await second.next((f) => f.event === "ping");
    expect((await call(app, "PATCH", path("dev-1"), { action: "block" })).json.status).toBe("blocked");
    await first.waitClosed();
    expect((await second.next((f) => f.event === "error")).data.code).toBe("DEVICE_BLOCKED");
    second.write(second.pingLine(challenge.data.server_timestamp)); // the proof, too late
    await second.waitClosed();
    expect(fx.gw!.app.gateway.getSession(BOT.name, "dev-1")).toBeUndefined();
    expect(fx.gw!.app.gateway.metrics.takeovers.value).toBe(0);
  });

  test("a status change while the phone's handshake awaits the store wins over what the store returned", async () => {
    const app = await pendingGateway({ bots: [{ ...BOT, autoApprove: true }] });
    const store = fx.gw!.app.gateway.store;
    const { phone: p0 } = await connect("dev-1"); // registered, approved
    p0.destroy();
    await until(() => fx.gw!.app.gateway.getSession(BOT.name, "dev-1") === undefined, 3000, "first connection gone");
    // A slow store: the handshake's upsert (which reads "approved") is held until the operator has acted.
    const upsert = store.upsertOnHandshake.bind(store);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inStore = new Promise<void>((r) => (entered = r));
    store.upsertOnHandshake = async (...args) => {
      const rec = await upsert(...args);
      entered();
      await held;
      return rec;
    };
    const phone = await LegacyPhone.connect(fx.gw!.port, identity("dev-1"));
    fx.phones.push(phone);
    phone.write(phone.handshakeLine());
    await inStore;
    expect((await call(app, "PATCH", path("dev-1"), { action: "block" })).json.status).toBe("blocked");
    release();
    const hello = await phone.next((f) => f.event === "handshakeComplete");
    expect(hello.data.success).toBe(false);
    await phone.waitClosed();
    expect(fx.gw!.app.gateway.getSession(BOT.name, "dev-1")).toBeUndefined();
  });

  test("deny, revoke and a plain status work too", async () => {
    const app = await pendingGateway();
    await connect("dev-1");
    expect((await call(app, "PATCH", path("dev-1"), { action: "deny" })).json.status).toBe("denied");
    expect((await call(app, "PATCH", path("dev-1"), { action: "revoke" })).json.status).toBe("revoked");
    expect((await call(app, "PATCH", path("dev-1"), { status: "pending" })).json.status).toBe("pending");
  });

  test("bad bodies are 400 with field errors; unknown device 404", async () => {
    const app = await pendingGateway();
    await connect("dev-1");
    const cases: Array<[unknown, string]> = [
      [{ action: "promote" }, "action"],
      [{}, "action"],
      [{ action: "approve", status: "approved" }, "action"],
      [{ status: "online" }, "status"],
      [{ action: "approve", description: 5 }, "description"],
      [{ action: "approve", color: "red" }, "color"],
      // inherited names of a plain object are not actions
      [{ action: "valueOf" }, "action"],
      [{ action: "__proto__" }, "action"],
      [{ action: "constructor" }, "action"],
    ];
    for (const [body, field] of cases) {
      const r = await call(app, "PATCH", path("dev-1"), body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("BAD_REQUEST");
      expect(r.json.error.fields.map((f: any) => f.path)).toContain(field);
    }
    const notJson = await call(app, "PATCH", path("dev-1"), "{action:");
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe("INVALID_JSON");
    expect((await call(app, "PATCH", path("dev-1"), "[1]")).status).toBe(400);
    expect((await call(app, "PATCH", path("dev-1"))).status).toBe(400);
    expect((await call(app, "PATCH", path("ghost"), { action: "approve" })).status).toBe(404);
    expect((await fx.gw!.app.gateway.store.get(BOT.name, "dev-1"))!.status).toBe("pending");
  });

  test("an oversized body is a 413", async () => {
    const app = await pendingGateway();
    const r = await call(app, "PATCH", path("dev-1"), { action: "approve", description: "x".repeat(1024 * 1024 + 10) });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe("BODY_TOO_LARGE");
  });

  test("the 1 MiB cap counts bytes, also for a chunked body without content-length", async () => {
    const app = await pendingGateway();
    // 600,000 Hangul syllables: 600,000 UTF-16 units but 1.8 MB of UTF-8
    const body = new TextEncoder().encode(JSON.stringify({ action: "approve", description: "가".repeat(600_000) }));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < body.length; i += 64 * 1024) c.enqueue(body.subarray(i, i + 64 * 1024));
        c.close();
      },
    });
    const res = await app.request(path("dev-1"), { method: "PATCH", headers: { ...AUTH, "content-type": "application/json" }, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("BODY_TOO_LARGE");
  });

  test("a body that is not UTF-8 is INVALID_JSON", async () => {
    const app = await pendingGateway();
    const bytes = new Uint8Array([...new TextEncoder().encode('{"action":"approve","description":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    const res = await app.request(path("dev-1"), { method: "PATCH", headers: { ...AUTH, "content-type": "application/json" }, body: bytes });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("INVALID_JSON");
  });

  test("lengths are counted in characters (code points), as the store counts them", async () => {
    const app = await pendingGateway();
    await connect("dev-1");
    const ok = await call(app, "PATCH", path("dev-1"), { action: "approve", description: "😀".repeat(1000) }); // 2,000 UTF-16 units
    expect(ok.status).toBe(200);
    expect(ok.json.description).toBe("😀".repeat(1000));
    const over = await call(app, "PATCH", path("dev-1"), { action: "approve", description: "😀".repeat(1001) });
    expect(over.status).toBe(400);
    expect(over.json.error.fields).toEqual([{ path: "description", message: "must be at most 1000 characters" }]);
  });
});

describe("DELETE /api/devices/:bot/:device", () => {
  test("deletes the registration and ends its live session; then 404", async () => {
    const app = await pendingGateway();
    const { phone } = await connect("dev-1");
    const r = await call(app, "DELETE", path("dev-1"));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ deleted: true, kicked: true });
    await phone.waitClosed();
    expect(await fx.gw!.app.gateway.store.get(BOT.name, "dev-1")).toBeNull();
    expect((await call(app, "DELETE", path("dev-1"))).status).toBe(404);
  });
});

describe("GET /api/devices/:bot/:device/pings", () => {
  test("stored ping and monitoring history, newest first, bounded by store.pingRetention", async () => {
    const app = await pendingGateway({ store: { kind: "sqlite", path: ":memory:", pingRetention: 3 } });
    await fx.gw!.app.gateway.store.upsertOnHandshake({ botName: BOT.name, deviceId: "dev-1", ipAddress: null, clientType: "MessengerBotR", clientVersion: "3.2.1", clientInfo: null }, "approved");
    const { phone } = await connect("dev-1");
    for (let i = 1; i <= 5; i++) phone.write(phone.pingLine(Date.now() - i, { active_rooms: i }));
    const store = fx.gw!.app.gateway.store;
    await until(() => fx.gw!.app.gateway.getSession(BOT.name, "dev-1")!.lastMonitoring?.active_rooms === 5, 3000, "pings in");
    let items: any[] = [];
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      items = (await call(app, "GET", `${path("dev-1")}/pings`)).json.items;
      if (items[0]?.monitoring?.active_rooms === 5) break;
      await Bun.sleep(10);
    }
    expect(items.map((p) => p.monitoring.active_rooms)).toEqual([5, 4, 3]);
    expect((await store.listPings(BOT.name, "dev-1", 100)).length).toBe(3);
    const one = await call(app, "GET", `${path("dev-1")}/pings?limit=1`);
    expect(one.json).toMatchObject({ limit: 1, retention: 3 });
    expect(one.json.items.length).toBe(1);
    expect(typeof one.json.items[0].rttMs).toBe("number");
    expect((await call(app, "GET", `${path("dev-1")}/pings?limit=0`)).status).toBe(400);
    expect((await call(app, "GET", `${path("ghost")}/pings`)).status).toBe(404);
  });
});
