import { loadHandler } from "./bot/load.ts";
import type { BotHandler } from "./bot/types.ts";
import type { Config } from "./config/options.ts";
import { Gateway } from "./gateway/gateway.ts";
import type { Logger } from "./log/logger.ts";
import { DirectDispatcher } from "./pipeline/direct.ts";
import { openStore } from "./store/open.ts";
import type { DeviceStore } from "./store/types.ts";
import type { Listen, TcpListener } from "./transport/types.ts";

export interface RuntimeAdapter {
  listen: Listen;
}

export interface App {
  gateway: Gateway;
  store: DeviceStore;
  listener: TcpListener;
  stop(): Promise<void>;
}

/**
 * Wire a running botgate from a validated config and a runtime adapter:
 * store -> handlers -> gateway -> dispatcher -> TCP listener.
 */
export async function startApp(config: Config, runtime: RuntimeAdapter, log: Logger, opts: { store?: DeviceStore } = {}): Promise<App> {
  const store = opts.store ?? (await openStore(config.store));
  const handlers = new Map<string, BotHandler>();
  for (const b of config.bots) handlers.set(b.name, await loadHandler(b.handler));
  const gateway = new Gateway({ config, store, log });
  gateway.dispatcher = new DirectDispatcher((bot) => handlers.get(bot)!, gateway, config.pipeline.jobTimeoutMs);
  const listener = runtime.listen({ hostname: config.listen.host, port: config.listen.port, tls: config.listen.tls ?? undefined }, (c) => gateway.accept(c));
  log.info("listening", { host: listener.hostname, port: listener.port, tls: config.listen.tls !== null, store: store.kind, bots: config.bots.map((b) => b.name) });
  let stopping: Promise<void> | null = null;
  return {
    gateway,
    store,
    listener,
    stop() {
      stopping ??= (async () => {
        listener.stop();
        await gateway.shutdown();
        if (!opts.store) await store.close();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}
