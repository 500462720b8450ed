/**
 * The admin/metrics HTTP API as a runtime-neutral Hono app. Serve it with a
 * runtime adapter (src/runtime/*: `serve`) or call `app.request()` in tests.
 *
 * Auth: /api/* always needs `Authorization: Bearer <admin.token>`; with no
 * token configured it fails closed (403). /healthz and /readyz are open;
 * /metrics needs the token when one is configured (open only on a loopback
 * bind without a token, which parseConfig guarantees).
 */
import { Hono } from "hono";
import { bearerAuth } from "./auth.ts";
import type { AdminDeps } from "./deps.ts";
import { notFound, onError } from "./errors.ts";
import { PROM_CONTENT_TYPE } from "./prom.ts";
import { renderMetrics } from "./metrics.ts";
import { deviceRoutes } from "./routes/devices.ts";
import { healthRoutes } from "./routes/health.ts";
import { messageRoutes } from "./routes/messages.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { statsRoutes } from "./routes/stats.ts";

export type { AdminDeps } from "./deps.ts";

export function createAdminApp(deps: AdminDeps): Hono {
  const d: AdminDeps = { ...deps, startedAt: deps.startedAt ?? Date.now() };
  const app = new Hono();
  app.onError(onError(d.log));
  app.notFound(notFound);

  app.route("/", healthRoutes(d));
  if (d.token !== null) app.use("/metrics", bearerAuth(d.token));
  app.get("/metrics", (c) => c.body(renderMetrics(d), 200, { "content-type": PROM_CONTENT_TYPE }));

  const api = new Hono();
  api.use("*", bearerAuth(d.token));
  api.route("/sessions", sessionRoutes(d));
  api.route("/devices", deviceRoutes(d));
  api.route("/messages", messageRoutes(d));
  api.route("/", statsRoutes(d));
  app.route("/api", api);
  return app;
}
