/**
 * Where the admin API is and which token to send. Precedence: --url/--token,
 * then BOTGATE_ADMIN_URL / BOTGATE_ADMIN_TOKEN, then the config file
 * (--config, $BOTGATE_CONFIG, or botgate.config.json) admin section.
 */
import { existsSync } from "node:fs";
import { DEFAULT_CONFIG_PATH, readConfigFile } from "../config/load.ts";
import { DEFAULT_ADMIN_PORT } from "../config/options.ts";
import { UsageError } from "./args.ts";

type Env = Record<string, string | undefined>;

export interface Target {
  url: string;
  token: string | null;
  /** Where each value came from, for error messages. */
  source: string;
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

export function resolveTarget(flags: Map<string, string>, env: Env): Target {
  let url = flags.get("url") ?? env.BOTGATE_ADMIN_URL ?? null;
  let token = flags.get("token") ?? env.BOTGATE_ADMIN_TOKEN ?? null;
  let source = flags.has("url") ? "--url" : env.BOTGATE_ADMIN_URL ? "BOTGATE_ADMIN_URL" : "";
  const path = flags.get("config") ?? env.BOTGATE_CONFIG ?? DEFAULT_CONFIG_PATH;
  if ((url === null || token === null) && (flags.has("config") || existsSync(path))) {
    const raw = readConfigFile(path);
    const admin = (raw.admin ?? {}) as { host?: unknown; port?: unknown; token?: unknown };
    if (url === null) {
      const host = typeof admin.host === "string" ? admin.host : "127.0.0.1";
      const port = typeof admin.port === "number" ? admin.port : DEFAULT_ADMIN_PORT;
      url = `http://${hostForUrl(env.BOTGATE_ADMIN_HOST ?? host)}:${env.BOTGATE_ADMIN_PORT ?? port}`;
      source = path;
    }
    if (token === null && typeof admin.token === "string") token = admin.token;
  }
  url ??= `http://127.0.0.1:${DEFAULT_ADMIN_PORT}`;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`admin URL must start with http:// or https:// (got "${url}" from ${source || "default"})`);
  return { url, token, source: source || "default" };
}
