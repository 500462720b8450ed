// One entry point for the gateway: pick a backend from config; tables are created if missing.
import { openMysqlStore } from "./mysql.ts";
import { openSqliteStore } from "./sqlite.ts";
import { StoreError, type DeviceStore } from "./types.ts";

export type StoreConfig =
  | { kind: "sqlite"; path: string; pingRetention?: number; trimMaxRows?: number }
  | { kind: "mysql"; url: string; pingRetention?: number; trimMaxRows?: number; requestTimeoutMs?: number; fetch?: typeof fetch };

export async function openStore(cfg: StoreConfig): Promise<DeviceStore> {
  switch (cfg?.kind) {
    case "sqlite":
      if (typeof cfg.path !== "string" || cfg.path === "") throw new StoreError("sqlite store needs a path (or \":memory:\")");
      return openSqliteStore(cfg);
    case "mysql":
      if (typeof cfg.url !== "string" || cfg.url === "") throw new StoreError("mysql store needs a url");
      return openMysqlStore(cfg);
    default:
      throw new StoreError(`unknown store kind ${JSON.stringify((cfg as { kind?: unknown })?.kind)}`);
  }
}
