/** `bun run botgate <command>`: operate a running botgate through its admin API. */
import { parseArgs, UsageError } from "./cli/args.ts";
import { AdminClient, ApiError, ConnectError, type Fetch } from "./cli/client.ts";
import { checkOptions, findCommand } from "./cli/commands.ts";
import { resolveTarget } from "./cli/target.ts";
import { BotgateError } from "./errors.ts";

export const HELP = `botgate - operate a running botgate through its admin API

Usage: bun run botgate <command> [options]

Commands:
  devices list [--bot B] [--status S]         registered devices (S: pending, approved, denied, revoked, blocked)
  devices approve|deny|block|revoke <bot> <device> [--description TEXT]
                                              change a device's status; a live session is updated at once
  devices delete <bot> <device>               forget a device (its session is closed)
  devices pings <bot> <device> [--limit N]    stored ping / monitoring history
  sessions list [--bot B]                     live sessions
  sessions show <bot> <device>                one session in detail
  sessions kick <bot> <device> [--reason R]   close a session
  send --bot B (--room R | --channel C) [--device D] <text...>
                                              push a message into a room through a connected device
  stats                                       pool, queue and resource snapshot

Options:
  --url URL        admin API (default: $BOTGATE_ADMIN_URL, else admin.host/port of the config file,
                   else http://127.0.0.1:37889)
  --token TOKEN    admin token (default: $BOTGATE_ADMIN_TOKEN, else admin.token of the config file)
  --config PATH    config file to read them from (default: $BOTGATE_CONFIG or botgate.config.json)
  --limit N, --offset N   paging for list commands
  --json           print the API's JSON instead of a table
  --help           this text

Exit codes: 0 ok, 1 the API refused or failed, 2 usage error, 3 admin API unreachable.`;

const VALUE_FLAGS = new Set(["url", "token", "config", "bot", "status", "reason", "room", "channel", "device", "limit", "offset", "description"]);

export interface CliIo {
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
  fetch?: Fetch;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const args = parseArgs(argv, VALUE_FLAGS);
    if (args.switches.has("help") || args.positionals.length === 0) {
      (args.positionals.length === 0 && !args.switches.has("help") ? io.err : io.out)(HELP);
      return args.switches.has("help") ? 0 : 2;
    }
    const cmd = findCommand(args.positionals);
    if (cmd === null) throw new UsageError(`unknown command "${args.positionals.slice(0, 2).join(" ")}"; see --help`);
    checkOptions(cmd, args);
    const target = resolveTarget(args.flags, io.env);
    await cmd.run(new AdminClient(target.url, target.token, io.fetch), args, { out: io.out }, cmd.usage);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`botgate: ${err.message}`);
      return 2;
    }
    if (err instanceof ConnectError) {
      io.err(`botgate: ${err.message}\n  is botgate running with admin.enabled? set --url or BOTGATE_ADMIN_URL`);
      return 3;
    }
    if (err instanceof ApiError) {
      io.err(`botgate: ${err.code} (HTTP ${err.status}): ${err.message}`);
      for (const f of err.fields) io.err(`  - ${f.path || "(body)"}: ${f.message}`);
      if (err.status === 401) io.err("  pass the admin token with --token or BOTGATE_ADMIN_TOKEN (admin.token in the config file)");
      return 1;
    }
    if (err instanceof BotgateError) {
      io.err(`botgate: ${err.message}`);
      return 2;
    }
    io.err(`botgate: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2), { env: process.env, out: (l) => console.log(l), err: (l) => console.error(l) });
  process.exit(code);
}
