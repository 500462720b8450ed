import { describe, expect, test } from "bun:test";
import { digest, digestsEqual } from "../../src/admin/auth.ts";
import { startAdminServer } from "../../src/admin/server.ts";
import { BotgateError } from "../../src/errors.ts";
import { ADMIN_TOKEN, startTestGateway } from "../support/harness.ts";
import { adminFor, AUTH, call, perTest } from "./helpers.ts";

const fx = perTest();

describe("admin auth", () => {
  test("/healthz and /readyz need no token", async () => {
    fx.gw = await startTestGateway();
    const app = adminFor(fx.gw);
    expect(await call(app, "GET", "/healthz", undefined, {})).toMatchObject({ status: 200, json: { status: "ok" } });
    expect(await call(app, "GET", "/readyz", undefined, {})).toMatchObject({ status: 200, json: { status: "ready", checks: { listener: true, store: true } } });
  });

  test("/readyz with the store down: 503; probes share one store check per second and one warning per 10 s", async () => {
    fx.gw = await startTestGateway();
    const app = adminFor(fx.gw);
    const store = fx.gw.app.gateway.store;
    let checks = 0;
    store.healthCheck = async () => {
      checks++;
      throw new Error("database is down");
    };
    const before = fx.gw.logs.filter((l) => l.includes("device store unreachable")).length;
    const answers = await Promise.all(Array.from({ length: 50 }, () => call(app, "GET", "/readyz", undefined, {})));
    expect(answers.every((a) => a.status === 503 && a.json.checks.store === false)).toBe(true);
    expect(checks).toBe(1);
    expect(fx.gw.logs.filter((l) => l.includes("device store unreachable")).length - before).toBe(1);
    expect(JSON.stringify(answers[0]!.json)).not.toContain("database is down");
  });

  test("every /api route refuses a missing, malformed or wrong token with 401 + WWW-Authenticate", async () => {
    fx.gw = await startTestGateway();
    const app = adminFor(fx.gw);
    const routes: Array<[string, string]> = [
      ["GET", "/api/sessions"],
      ["GET", "/api/sessions/LOA.i/d1"],
      ["DELETE", "/api/sessions/LOA.i/d1"],
      ["GET", "/api/devices"],
      ["GET", "/api/devices/LOA.i/d1"],
      ["PATCH", "/api/devices/LOA.i/d1"],
      ["DELETE", "/api/devices/LOA.i/d1"],
      ["GET", "/api/devices/LOA.i/d1/pings"],
      ["POST", "/api/messages"],
      ["GET", "/api/stats"],
      ["GET", "/api/resources"],
      ["GET", "/api/no-such-route"],
    ];
    const bad: Array<Record<string, string>> = [
      {},
      { authorization: "Basic " + btoa("admin:" + ADMIN_TOKEN) },
      { authorization: "Bearer" },
      { authorization: "Bearer " + ADMIN_TOKEN + "x" },
      { authorization: "Bearer " + ADMIN_TOKEN.slice(0, -1) },
    ];
    for (const [method, path] of routes) {
      for (const headers of bad) {
        const r = await call(app, method, path, undefined, headers);
        expect(r.status).toBe(401);
        expect(r.json.error.code).toBe("UNAUTHORIZED");
        expect(r.res.headers.get("www-authenticate")).toContain("Bearer");
      }
    }
    expect((await call(app, "GET", "/api/sessions", undefined, { authorization: "bearer " + ADMIN_TOKEN })).status).toBe(200);
  });

  test("a configured token also guards /metrics", async () => {
    fx.gw = await startTestGateway();
    const app = adminFor(fx.gw);
    expect((await call(app, "GET", "/metrics", undefined, {})).status).toBe(401);
    expect((await call(app, "GET", "/metrics", undefined, AUTH)).status).toBe(200);
  });

  test("no token configured (loopback): /api fails closed with 403 saying how to set one; health and metrics stay open", async () => {
    fx.gw = await startTestGateway();
    const app = adminFor(fx.gw, null);
    const r = await call(app, "GET", "/api/sessions", undefined, { authorization: "Bearer anything-at-all-1234" });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe("FORBIDDEN");
    expect(r.json.error.message).toContain("admin.token");
    expect(r.json.error.message).toContain("BOTGATE_ADMIN_TOKEN");
    expect((await call(app, "GET", "/metrics", undefined, {})).status).toBe(200);
    expect((await call(app, "GET", "/healthz", undefined, {})).status).toBe(200);
  });

  test("refuses to bind a non-loopback address without a token, before serving anything", async () => {
    fx.gw = await startTestGateway();
    let served = false;
    const serve = () => {
      served = true;
      return { hostname: "0.0.0.0", port: 1, stop: async () => {} };
    };
    const deps = { gateway: fx.gw.app.gateway, log: fx.gw.app.gateway.log, token: null };
    expect(() => startAdminServer(deps, serve, { host: "0.0.0.0", port: 0 })).toThrow(BotgateError);
    expect(() => startAdminServer(deps, serve, { host: "192.168.1.10", port: 0 })).toThrow("without admin.token");
    expect(served).toBe(false);
    startAdminServer({ ...deps, token: ADMIN_TOKEN }, serve, { host: "0.0.0.0", port: 0 });
    expect(served).toBe(true);
  });

  test("digests compare by content, whatever the token length", () => {
    expect(digestsEqual(digest("a-token-of-some-length"), digest("a-token-of-some-length"))).toBe(true);
    expect(digestsEqual(digest("a-token-of-some-length"), digest("a-token-of-some-lengtH"))).toBe(false);
    expect(digestsEqual(digest("short"), digest("a much much longer token than the other"))).toBe(false);
    expect(digest("x").length).toBe(32);
    expect(digest("y".repeat(5000)).length).toBe(32);
  });
});
