import { describe, expect, test } from "bun:test";
import { BOT, startTestGateway, until } from "../support/harness.ts";
import { adminFor, call, phoneOn, perTest } from "./helpers.ts";

const OTHER = { name: "Other", secret: "other-secret-0123456789abcdef", salt: "other-salt" };

const fx = perTest();

async function two() {
  fx.gw = await startTestGateway({ bots: [{ ...BOT, autoApprove: true }, { ...OTHER, autoApprove: true }] });
  const a = (await phoneOn(fx.gw.port, "dev-a")).phone;
  const b = (await phoneOn(fx.gw.port, "dev-b")).phone;
  const o = (await phoneOn(fx.gw.port, "dev-o", { botName: OTHER.name, secret: OTHER.secret, salt: OTHER.salt })).phone;
  fx.phones.push(a, b, o);
  return { app: adminFor(fx.gw), a, b, o };
}

describe("GET /api/sessions", () => {
  test("lists live sessions, filters by bot, pages", async () => {
    const { app } = await two();
    const all = await call(app, "GET", "/api/sessions");
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(3);
    expect(all.json.items.map((s: any) => s.device)).toEqual(["dev-a", "dev-b", "dev-o"]);

    const mine = await call(app, "GET", `/api/sessions?bot=${encodeURIComponent(BOT.name)}`);
    expect(mine.json.total).toBe(2);
    expect(mine.json.items.every((s: any) => s.bot === BOT.name)).toBe(true);

    const page = await call(app, "GET", "/api/sessions?limit=1&offset=1");
    expect(page.json).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.json.items.map((s: any) => s.device)).toEqual(["dev-b"]);
  });

  test("bad paging parameters are a 400 with every field error", async () => {
    const { app } = await two();
    const r = await call(app, "GET", "/api/sessions?limit=0&offset=-1");
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("BAD_REQUEST");
    expect(r.json.error.fields.map((f: any) => f.path).sort()).toEqual(["limit", "offset"]);
    expect((await call(app, "GET", "/api/sessions?limit=abc")).json.error.fields[0].path).toBe("limit");
  });
});

describe("GET /api/sessions/:bot/:device", () => {
  test("shows address, connected since, last monitoring, RTT, bytes and queue", async () => {
    const { app, a } = await two();
    const ts = Date.now() - 40;
    a.write(a.pingLine(ts, { total_memory: 2048, memory_usage: 512.5, memory_percent: 25, message_queue_size: 5, active_rooms: 10 }));
    const g = fx.gw!.app.gateway;
    await until(() => g.getSession(BOT.name, "dev-a")!.lastRttMs !== null, 3000, "ping recorded");
    const r = await call(app, "GET", `/api/sessions/${BOT.name}/dev-a`);
    expect(r.status).toBe(200);
    const s = r.json;
    expect(s).toMatchObject({ bot: BOT.name, device: "dev-a", status: "approved", state: "open", clientVersion: "3.2.1" });
    expect(s.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Date.parse(s.connectedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(s.lastMonitoring).toMatchObject({ active_rooms: 10, memory_percent: 25 });
    expect(s.lastRttMs).toBeGreaterThanOrEqual(40);
    expect(s.bytesIn).toBeGreaterThan(100);
    expect(s.bytesOut).toBeGreaterThan(0);
    expect(s.queuedBytes).toBe(0);
    expect(s.deviceInfo).toContain("samsung");
  });

  test("unknown session is 404; a device id with surrounding spaces is a 400", async () => {
    const { app } = await two();
    const r = await call(app, "GET", `/api/sessions/${BOT.name}/nope`);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("NOT_FOUND");
    const bad = await call(app, "GET", `/api/sessions/${BOT.name}/%20dev-a`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields[0].path).toBe("device");
  });
});

describe("DELETE /api/sessions/:bot/:device", () => {
  test("kicks the session with a reason; the others stay", async () => {
    const { app, a, b } = await two();
    const r = await call(app, "DELETE", `/api/sessions/${BOT.name}/dev-a`, { reason: "maintenance" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ kicked: true, device: "dev-a", reason: "maintenance" });
    await a.waitClosed();
    expect(fx.gw!.app.gateway.metrics.connectionsClosed.get("kicked")).toBe(1);
    expect(fx.gw!.logs.some((l) => l.includes('"session kicked"') && l.includes("maintenance"))).toBe(true);
    expect(b.isClosed).toBe(false);
    await until(() => fx.gw!.app.gateway.getSession(BOT.name, "dev-a") === undefined, 3000, "session removed");
    expect((await call(app, "DELETE", `/api/sessions/${BOT.name}/dev-a`)).status).toBe(404);
  });

  test("reason may come from the query; an empty or non-string reason is a 400", async () => {
    const { app, b } = await two();
    expect((await call(app, "DELETE", `/api/sessions/${BOT.name}/dev-b`, { reason: 42 })).status).toBe(400);
    expect((await call(app, "DELETE", `/api/sessions/${BOT.name}/dev-b`, { why: "x" })).json.error.fields[0]).toEqual({ path: "why", message: "unknown field" });
    expect(b.isClosed).toBe(false);
    const r = await call(app, "DELETE", `/api/sessions/${BOT.name}/dev-b?reason=rotating`);
    expect(r.json.reason).toBe("rotating");
    await b.waitClosed();
  });
});
