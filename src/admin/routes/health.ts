import { Hono } from "hono";
import type { AdminDeps } from "../deps.ts";

/** Liveness and readiness; open without a token (they reveal nothing). */
export function healthRoutes(deps: AdminDeps): Hono {
  const r = new Hono();
  r.get("/healthz", (c) => c.json({ status: "ok" }));
  r.get("/readyz", async (c) => {
    const listener = deps.gateway.accepting && (deps.listening?.() ?? true);
    let store = true;
    try {
      await deps.gateway.store.healthCheck();
    } catch (err) {
      // Unauthenticated endpoint: the detail goes to the log, not the response.
      store = false;
      deps.log.warn("readiness: device store unreachable", { error: err });
    }
    const ready = listener && store;
    return c.json({ status: ready ? "ready" : "not_ready", checks: { listener, store } }, ready ? 200 : 503);
  });
  return r;
}
