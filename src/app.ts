import { loadHandler } from "./bot/load.ts";
import { webhookHandler } from "./bot/webhook.ts";
import type { BotHandler } from "./bot/types.ts";
import type { Config } from "./config/options.ts";
import { Gateway } from "./gateway/gateway.ts";
import type { Logger } from "./log/logger.ts";
import { Pipeline } from "./pipeline/pool.ts";
import { openStore } from "./store/open.ts";
import type { DeviceStore } from "./store/types.ts";
import type { Listen, TcpListener } from "./transport/types.ts";
import { startAdminServer } from "./admin/server.ts";
import { Sweeper } from "./resources/sweeper.ts";
import { LoopLagSampler } from "./runtime/loop-lag.ts";
import type { HttpServer, Serve } from "./runtime/types.ts";

export interface RuntimeAdapter {
  listen: Listen;
  /** HTTP for the admin API; required when config.admin.enabled. */
  serve?: Serve;
}

export interface App {
  gateway: Gateway;
  store: DeviceStore;
  listener: TcpListener;
  /** The admin API server, when config.admin.enabled. */
  admin: HttpServer | null;
  sweeper: Sweeper;
  stop(): Promise<void>;
}

/**
 * Wire a running botgate from a validated config and a runtime adapter:
 * store -> handlers -> gateway -> dispatcher -> TCP listener.
 */
export async function startApp(config: Config, runtime: RuntimeAdapter, log: Logger, opts: { store?: DeviceStore; sweepIntervalMs?: number } = {}): Promise<App> {
  // Everything that can fail without side effects comes first: nothing to undo yet.
  if (config.admin.enabled && !runtime.serve) throw new Error("this runtime adapter has no serve(); disable admin or use an adapter that has one");
  const handlers = new Map<string, BotHandler>();
  for (const b of config.bots) handlers.set(b.name, b.webhook ? webhookHandler(b.name, b.webhook) : await loadHandler(b.handler));
  const store = opts.store ?? (await openStore(config.store));
  for (const w of store.warnings ?? []) log.warn("device store", { note: w });
  const gateway = new Gateway({ config, store, log });
  gateway.dispatcher = new Pipeline({
    options: config.pipeline,
    bots: config.bots.map((b) => ({ name: b.name, handler: handlers.get(b.name)!, jobTimeoutMs: b.jobTimeoutMs })),
    outbound: gateway,
    tracker: gateway.tracker,
    log: log.child({ component: "pipeline" }),
  });
  // From here on a failure must undo what was started: the gateway (its timers, the pipeline) and our store.
  const undo = async () => {
    await gateway.shutdown();
    if (!opts.store) await store.close();
  };
  let listener: TcpListener;
  try {
    listener = runtime.listen({ hostname: config.listen.host, port: config.listen.port, tls: config.listen.tls ?? undefined, acceptQueues: config.listen.acceptQueues }, (c) => gateway.accept(c));
  } catch (err) {
    await undo(); // e.g. the port is taken
    throw err;
  }
  // Leak sweep and loop-lag sampling are owned by the gateway scope: they stop with it.
  const sweeper = new Sweeper(gateway.tracker, log);
  sweeper.start(gateway.scope, opts.sweepIntervalMs);
  const loopLag = new LoopLagSampler();
  loopLag.start(gateway.scope);
  let listening = true;
  let admin: HttpServer | null = null;
  if (config.admin.enabled && runtime.serve) {
    const deps = { gateway, log, token: config.admin.token, listening: () => listening, sweeper, loopLag };
    try {
      admin = startAdminServer(deps, runtime.serve, { host: config.admin.host, port: config.admin.port });
    } catch (err) {
      listener.stop();
      await undo();
      throw err;
    }
  }
  log.info("listening", { host: listener.hostname, port: listener.port, tls: config.listen.tls !== null, store: store.kind, bots: config.bots.map((b) => b.name) });
  let stopping: Promise<void> | null = null;
  return {
    gateway,
    store,
    listener,
    admin,
    sweeper,
    stop() {
      stopping ??= (async () => {
        listening = false;
        listener.stop();
        await gateway.shutdown();
        await admin?.stop();
        if (!opts.store) await store.close();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}
