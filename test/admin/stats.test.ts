import { describe, expect, test } from "bun:test";
import { createAdminApp } from "../../src/admin/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { Sweeper } from "../../src/resources/sweeper.ts";
import { ResourceTracker } from "../../src/resources/tracker.ts";
import { Scope } from "../../src/resources/scope.ts";
import { LoopLagSampler } from "../../src/runtime/loop-lag.ts";
import { ADMIN_TOKEN, startTestGateway, until } from "../support/harness.ts";
import { adminFor, call, phoneOn, perTest } from "./helpers.ts";

const fx = perTest();

describe("GET /api/stats and /api/resources", () => {
  test("stats: connections, pipeline snapshot, tracker counts, memory", async () => {
    fx.gw = await startTestGateway();
    fx.phones.push((await phoneOn(fx.gw.port, "dev-s")).phone);
    const r = await call(adminFor(fx.gw), "GET", "/api/stats");
    expect(r.status).toBe(200);
    expect(r.json.connections).toEqual({ open: 1, sessions: 1 });
    expect(r.json.accepting).toBe(true);
    expect(r.json.pipeline).toMatchObject({ queueDepth: expect.any(Number), dropped: expect.any(Object), zombies: expect.any(Object) });
    expect(r.json.tracker.counts).toMatchObject({ session: 1, socket: 1 });
    expect(r.json.memory.rss).toBeGreaterThan(0);
  });

  test("resources: live entries with owner and age, filterable; bad kind is a 400", async () => {
    fx.gw = await startTestGateway();
    const { phone } = await phoneOn(fx.gw.port, "dev-r");
    fx.phones.push(phone);
    const app = adminFor(fx.gw);
    const sid = fx.gw.app.gateway.getSession("LOA.i", "dev-r")!.id;
    const r = await call(app, "GET", "/api/resources");
    expect(r.status).toBe(200);
    // the session is owned by the gateway; its socket and heartbeat timer by the session
    const mine = r.json.items.filter((e: any) => e.owner === `session#${sid}`);
    expect(mine.map((e: any) => e.kind).sort()).toEqual(["interval", "socket"]);
    expect(mine.every((e: any) => e.ageMs >= 0 && typeof e.createdAt === "string")).toBe(true);
    const session = r.json.items.filter((e: any) => e.kind === "session");
    expect(session.map((e: any) => [e.id, e.owner])).toEqual([[sid, "gateway"]]);
    expect(r.json.items.some((e: any) => e.owner === "gateway" && e.label === "resource-sweep")).toBe(true);
    const sockets = await call(app, "GET", "/api/resources?kind=socket");
    expect(sockets.json.items.length).toBe(1);
    expect((await call(app, "GET", `/api/resources?owner=session%23${sid}&limit=2`)).json.items.length).toBe(2);
    expect((await call(app, "GET", "/api/resources?kind=widget")).status).toBe(400);
    phone.destroy();
    await until(() => fx.gw!.app.gateway.tracker.counts().socket === 0, 3000, "socket released");
    expect((await call(app, "GET", "/api/resources?kind=socket")).json.items).toEqual([]);
  });
});

describe("resource sweeper", () => {
  test("a resource that outlived its owner is released, counted by kind and logged at warn", () => {
    const tracker = new ResourceTracker();
    const lines: string[] = [];
    const sweeper = new Sweeper(tracker, createLogger("info", (l) => lines.push(l)));
    let ownerAlive = true;
    let released = 0;
    tracker.track("timer", "session#99", "forgotten", () => released++, () => ownerAlive);
    tracker.track("interval", "gateway", "fine", () => {}, () => true);
    expect(sweeper.sweep()).toEqual([]);
    ownerAlive = false;
    const leaked = sweeper.sweep();
    expect(leaked.map((e) => e.label)).toEqual(["forgotten"]);
    expect(released).toBe(1);
    expect(sweeper.leaks.get("timer")).toBe(1);
    expect(tracker.counts().timer).toBe(0);
    expect(tracker.counts().interval).toBe(1);
    const rec = JSON.parse(lines.at(-1)!);
    expect(rec).toMatchObject({ level: "warn", kind: "timer", owner: "session#99", label: "forgotten" });
    expect(rec.ageMs).toBeGreaterThanOrEqual(0);
  });

  test("runs periodically under its owner scope, shows up in /metrics and /api/stats, and stops with the scope", async () => {
    fx.gw = await startTestGateway();
    const tracker = new ResourceTracker();
    const scope = new Scope("app", tracker);
    const sweeper = new Sweeper(tracker, createLogger("silent"));
    sweeper.start(scope, 20);
    tracker.track("job", "pool", "stuck-job", () => {}, () => false);
    await until(() => sweeper.leaks.get("job") === 1, 3000, "periodic sweep");
    const app = createAdminApp({ gateway: fx.gw.app.gateway, log: createLogger("silent"), token: ADMIN_TOKEN, sweeper });
    const m = await call(app, "GET", "/metrics");
    expect(m.json).toContain('botgate_resource_leaks_total{kind="job"} 1');
    expect((await call(app, "GET", "/api/stats")).json.tracker.leaksByKind).toEqual({ job: 1 });
    scope.close();
    expect(tracker.size).toBe(0);
    const before = sweeper.sweeps;
    await Bun.sleep(60);
    expect(sweeper.sweeps).toBe(before);
  });
});

describe("loop-lag sampler", () => {
  test("records how late its timer fires", async () => {
    const lag = new LoopLagSampler();
    lag.record(-3);
    expect(lag.lastMs).toBe(0);
    lag.record(42);
    lag.record(7);
    expect(lag.lastMs).toBe(7);
    expect(lag.maxMs).toBe(42);
    expect(lag.histogram.count).toBe(3);
    const scope = new Scope("lag");
    const live = new LoopLagSampler();
    live.start(scope, 10);
    await Bun.sleep(15);
    const t = Date.now();
    while (Date.now() - t < 60) {} // block the loop
    await until(() => live.maxMs >= 30, 2000, "lag seen");
    scope.close();
  });
});
