/** `bun start`: load (or create) the config, then run the gateway until SIGINT/SIGTERM. */
import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { startApp } from "./app.ts";
import { DEFAULT_CONFIG_PATH, loadConfig, writeStarterConfig } from "./config/load.ts";
import { BotgateError } from "./errors.ts";
import { createLogger, scrub } from "./log/logger.ts";

const HELP = `botgate - gateway server for MessengerBot R (KakaoTalk) bots

Usage: bun start [-- --config <path>]

Options:
  --config <path>   config file (default: $BOTGATE_CONFIG or ${DEFAULT_CONFIG_PATH});
                    created with a generated secret and salt when missing
  --help            this text

Environment overrides: BOTGATE_HOST, BOTGATE_PORT, BOTGATE_ADMIN_HOST, BOTGATE_ADMIN_PORT,
BOTGATE_ADMIN_TOKEN, BOTGATE_SQLITE_PATH, BOTGATE_MYSQL_URL, BOTGATE_LOG_LEVEL.
See README.md for every setting.`;

function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "<this server's address>";
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const i = argv.indexOf("--config");
  const path = i >= 0 ? argv[i + 1] : (process.env.BOTGATE_CONFIG || DEFAULT_CONFIG_PATH);
  if (!path) {
    console.error("--config needs a path");
    return 2;
  }
  const first = existsSync(path) ? null : writeStarterConfig(path);
  const config = loadConfig(path, process.env);
  if (first !== null) {
    console.log(`
botgate: created ${path} (owner-only permissions) with a new bot.
Put these values into the bridge script on the phone (MessengerBot R):

  BOT_NAME   = "${first.botName}"
  SECRET_KEY = "${first.secret}"
  SALT       = "${first.salt}"
  server     = { host: "${lanAddress()}", port: ${config.listen.port} }

New devices of this bot are approved automatically (bots[0].autoApprove in ${path}).
Try "!ping" in a chat room the bot reads.
`);
  }
  const log = createLogger(config.log.level);
  // The one place that picks the runtime adapter.
  const runtime = "Deno" in globalThis ? await import("./runtime/deno.ts") : await import("./runtime/bun.ts");
  const app = await startApp(config, runtime, log);
  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals > 1) process.exit(1);
    log.info("shutting down", { signal: sig });
    app.stop().then(
      () => process.exit(0),
      (err) => {
        log.error("shutdown failed", { error: err });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    if (err instanceof BotgateError || (err instanceof Error && err.name === "StoreError")) console.error(`botgate: ${scrub(err.message)}`);
    else console.error(`botgate: failed to start: ${describeFailure(err)}`);
    process.exit(1);
  },
);

/** The error and its causes, scrubbed: a driver's error may quote a connection URL with its password. */
function describeFailure(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(scrub(e instanceof Error ? (e.stack ?? e.message) : String(e)));
  }
  return parts.join("\ncaused by: ");
}
