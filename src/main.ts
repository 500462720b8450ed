/** `bun start`: load (or create) the config, then run the gateway until SIGINT/SIGTERM. */
import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { parseArgs } from "node:util";
import { startApp } from "./app.ts";
import { applyEnv, DEFAULT_CONFIG_PATH, loadConfig, makeStarterConfig, type Starter, writeStarterConfig } from "./config/load.ts";
import { type Config, parseConfig } from "./config/options.ts";
import { BotgateError } from "./errors.ts";
import { createLogger, type Logger, scrub } from "./log/logger.ts";
import { RateGate } from "./log/rate-gate.ts";

const HELP = `botgate - gateway server for MessengerBot R (KakaoTalk) bots

Usage: bun start [-- --config <path>]

Options:
  --config <path>   config file (also --config=<path>; default: $BOTGATE_CONFIG, else
                    ${DEFAULT_CONFIG_PATH}, which a first start creates with a generated
                    secret and salt; a named file that does not exist is an error)
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

/**
 * Once serving: a bot handler's stray failure (a promise nobody awaited that rejects, a
 * timer or abort listener that throws) is logged with its stack, at most once a second per
 * kind, and the gateway keeps serving every other phone; by default the runtime would exit.
 * Not before: a failure during start-up still ends the start.
 */
function keepRunningOnStrayErrors(log: Logger): void {
  const gate = new RateGate(1000, 4);
  const report = (kind: string) => (err: unknown) => {
    if (!gate.pass(kind)) return;
    const held = gate.heldBack;
    const stack = err instanceof Error && err.stack ? { stack: scrub(err.stack) } : {};
    log.error(`${kind} (a bot handler's, most likely); botgate keeps running`, { error: err, ...stack, ...(held > 0 ? { notLogged: held } : {}) });
  };
  process.on("unhandledRejection", report("unhandled promise rejection"));
  process.on("uncaughtException", report("uncaught exception"));
}

async function main(argv: string[]): Promise<number> {
  // `bun start -- --config x` drops the "--"; `deno run src/main.ts -- --config x` passes it on.
  if (argv[0] === "--") argv = argv.slice(1);
  let args: { config?: string; help?: boolean };
  try {
    args = parseArgs({ args: argv, options: { config: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    console.error(`botgate: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const named = args.config ?? (process.env.BOTGATE_CONFIG || undefined);
  const path = named ?? DEFAULT_CONFIG_PATH;
  if (path === "") {
    console.error("botgate: --config needs a path");
    return 2;
  }
  let config: Config;
  let first: Starter | null = null;
  if (existsSync(path)) config = loadConfig(path, process.env);
  else if (named !== undefined) {
    // A typo must not start a fresh bot beside the real config.
    console.error(`botgate: config file ${path} does not exist (a first start without --config or $BOTGATE_CONFIG creates ${DEFAULT_CONFIG_PATH})`);
    return 2;
  } else {
    // Validated with the environment before it is written: a start that fails leaves no file
    // behind whose secret was never shown.
    first = makeStarterConfig();
    config = parseConfig(applyEnv(first.raw, process.env));
    writeStarterConfig(path, first);
  }
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
  // A stray failure while starting (a handler module that rejects as it loads, say) ends the
  // start. The runtime reports a rejection only after the tick it happened in, so the start
  // counts until one timer turn after startApp.
  const startupFailures: unknown[] = [];
  const duringStart = (err: unknown) => void startupFailures.push(err);
  process.on("unhandledRejection", duringStart);
  process.on("uncaughtException", duringStart);
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(config, runtime, log);
    await new Promise((r) => setTimeout(r, 0));
  } finally {
    process.off("unhandledRejection", duringStart);
    process.off("uncaughtException", duringStart);
  }
  if (startupFailures.length > 0) {
    await app.stop();
    throw startupFailures[0];
  }
  keepRunningOnStrayErrors(log);
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
