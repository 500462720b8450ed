import { isLoopback } from "../config/options.ts";
import { BotgateError } from "../errors.ts";
import type { HttpServer, Serve } from "../runtime/types.ts";
import { createAdminApp } from "./app.ts";
import type { AdminDeps } from "./deps.ts";

/** Bind the admin app with the runtime's `serve`. Never on a non-loopback address without a token. */
export function startAdminServer(deps: AdminDeps, serve: Serve, bind: { host: string; port: number }): HttpServer {
  if (deps.token === null && !isLoopback(bind.host)) {
    throw new BotgateError("CONFIG_INVALID", `refusing to serve the admin API on ${bind.host} without admin.token`);
  }
  const app = createAdminApp(deps);
  const server = serve({ hostname: bind.host, port: bind.port, fetch: (req) => app.fetch(req) });
  if (deps.token === null) deps.log.warn("admin API listening, but /api is locked: no admin.token configured", { host: server.hostname, port: server.port });
  else deps.log.info("admin API listening", { host: server.hostname, port: server.port });
  return server;
}
