import { Hono } from "hono";
import { RateGate } from "../../log/rate-gate.ts";
import type { AdminDeps } from "../deps.ts";

/** How long one store health check answers /readyz: an open endpoint must not turn every probe into a query. */
const STORE_CHECK_MS = 1000;

/** Liveness and readiness; open without a token (they reveal nothing). */
export function healthRoutes(deps: AdminDeps): Hono {
  const r = new Hono();
  const warnings = new RateGate(10_000, 1);
  let last: { at: number; ok: Promise<boolean> } | null = null;
  const storeOk = (): Promise<boolean> => {
    const now = performance.now();
    if (last !== null && now - last.at < STORE_CHECK_MS) return last.ok;
    const ok = deps.gateway.store.healthCheck().then(
      () => true,
      (err: unknown) => {
        // Unauthenticated endpoint: the detail goes to the log (at most once per 10 s), not the response.
        if (warnings.pass("store")) deps.log.warn("readiness: device store unreachable", { error: err, ...(warnings.heldBack > 0 ? { notLogged: warnings.heldBack } : {}) });
        return false;
      },
    );
    last = { at: now, ok };
    return ok;
  };
  r.get("/healthz", (c) => c.json({ status: "ok" }));
  r.get("/readyz", async (c) => {
    const listener = deps.gateway.accepting && (deps.listening?.() ?? true);
    const store = await storeOk();
    const ready = listener && store;
    return c.json({ status: ready ? "ready" : "not_ready", checks: { listener, store } }, ready ? 200 : 503);
  });
  return r;
}
