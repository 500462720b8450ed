/**
 * Where the admin API is and which token to send. Precedence: --url/--token,
 * then BOTGATE_ADMIN_URL / BOTGATE_ADMIN_TOKEN, then the admin section of the
 * config file (--config, $BOTGATE_CONFIG, or botgate.config.json, if present)
 * with the server's own BOTGATE_ADMIN_HOST / BOTGATE_ADMIN_PORT overrides applied.
 */
import { existsSync } from "node:fs";
import { applyEnv, DEFAULT_CONFIG_PATH, readConfigFile } from "../config/load.ts";
import { DEFAULT_ADMIN_PORT, isHeaderSafeToken } from "../config/options.ts";
import { UsageError } from "./args.ts";
import { withoutCredentials } from "./client.ts";

type Env = Record<string, string | undefined>;

export interface Target {
  url: string;
  token: string | null;
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

export function resolveTarget(flags: Map<string, string>, env: Env): Target {
  // An empty variable counts as unset, as the server's applyEnv treats it.
  let url = flags.get("url") ?? (env.BOTGATE_ADMIN_URL || null);
  let token = flags.get("token") ?? (env.BOTGATE_ADMIN_TOKEN || null);
  if (url !== null && !/^https?:\/\//i.test(url)) {
    throw new UsageError(`admin URL must start with http:// or https:// (got "${withoutCredentials(url)}" from ${flags.has("url") ? "--url" : "BOTGATE_ADMIN_URL"})`);
  }
  if (url !== null && !URL.canParse(url)) {
    // A usage error, not "unreachable" (exit 3): fetch() would refuse it before any connection.
    throw new UsageError(`admin URL is not a valid URL (got "${withoutCredentials(url)}" from ${flags.has("url") ? "--url" : "BOTGATE_ADMIN_URL"})`);
  }
  if (url === null || token === null) {
    const path = flags.get("config") ?? (env.BOTGATE_CONFIG || DEFAULT_CONFIG_PATH); // empty = unset, as for the server
    const file = flags.has("config") || existsSync(path) ? readConfigFile(path) : {};
    // The same overrides (and number check) the server applies; only the admin address ones.
    const raw = applyEnv(file, { BOTGATE_ADMIN_HOST: env.BOTGATE_ADMIN_HOST, BOTGATE_ADMIN_PORT: env.BOTGATE_ADMIN_PORT });
    const admin = (raw.admin ?? {}) as { host?: unknown; port?: unknown; token?: unknown };
    if (url === null) {
      const host = typeof admin.host === "string" ? admin.host : "127.0.0.1";
      const port = typeof admin.port === "number" ? admin.port : DEFAULT_ADMIN_PORT;
      url = `http://${hostForUrl(host)}:${port}`;
    }
    if (token === null && typeof admin.token === "string") token = admin.token;
  }
  // It goes into an HTTP header; the server only accepts such tokens (config check).
  if (token !== null && !isHeaderSafeToken(token)) throw new UsageError("the admin token must be printable ASCII without spaces");
  return { url, token };
}
