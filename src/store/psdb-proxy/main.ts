// CLI: bun src/store/psdb-proxy/main.ts --mysql mysql://root@127.0.0.1:3306/test --port 3900
//      [--host 127.0.0.1] [--user botgate] [--password secret]   (or PSDB_PROXY_USER / PSDB_PROXY_PASSWORD)
//      [--statement-timeout-ms 10000]
import { parseArgs } from "node:util";
import { SQL } from "bun";
import { isLoopback } from "../../config/options.ts";
import { startPsdbProxy } from "./proxy.ts";
import { isValidStatementTimeout } from "./sessions.ts";

const USAGE = `usage: bun src/store/psdb-proxy/main.ts --mysql mysql://user:pass@host:3306/db
       [--port 3900] [--host 127.0.0.1] [--user botgate] [--password secret]
       [--statement-timeout-ms 10000]
Serves the PlanetScale HTTP API (what @planetscale/database speaks) over a plain
MySQL/MariaDB, so botgate's mysql store can use a self-hosted database.
Env: PSDB_PROXY_MYSQL, PSDB_PROXY_USER, PSDB_PROXY_PASSWORD. A password is required
unless --host is a loopback address. A statement running longer than
--statement-timeout-ms is killed on the server, fails, and closes its session (keep it at or below the
store's requestTimeoutMs, 10000 by default).`;

let values: { mysql?: string; port: string; host: string; user?: string; password?: string; "statement-timeout-ms": string; help?: boolean };
try {
  values = parseArgs({
    options: {
      mysql: { type: "string" },
      port: { type: "string", default: "3900" },
      host: { type: "string", default: "127.0.0.1" },
      user: { type: "string" },
      password: { type: "string" },
      "statement-timeout-ms": { type: "string", default: "10000" },
      help: { type: "boolean", short: "h" },
    },
  }).values as typeof values;
} catch (err) {
  console.error(`psdb-proxy: ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const mysqlUrl = values.mysql ?? process.env.PSDB_PROXY_MYSQL;
const username = values.user ?? process.env.PSDB_PROXY_USER ?? "botgate";
const password = values.password ?? process.env.PSDB_PROXY_PASSWORD ?? "";
const port = Number(values.port);
if (!mysqlUrl || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(USAGE);
  process.exit(2);
}
const statementTimeoutMs = Number(values["statement-timeout-ms"]);
if (!isValidStatementTimeout(statementTimeoutMs)) {
  console.error(`psdb-proxy: --statement-timeout-ms must be a whole number of milliseconds from 1 to 3600000, got "${values["statement-timeout-ms"]}"`);
  process.exit(2);
}
if (!password && !isLoopback(values.host)) {
  console.error(`psdb-proxy: refusing to listen on ${values.host} without a password (--password or PSDB_PROXY_PASSWORD)`);
  process.exit(2);
}
if (!password) console.warn("psdb-proxy: no password set (--password or PSDB_PROXY_PASSWORD); any local process can run SQL through it");

// Fail fast when MySQL is unreachable instead of on the first request.
const probe = new SQL({ url: mysqlUrl, adapter: "mysql", max: 1, connectionTimeout: 5 });
try {
  await probe.unsafe("SELECT 1");
} catch (err) {
  console.error(`psdb-proxy: cannot reach MySQL at ${new URL(mysqlUrl).host}: ${(err as Error).message}`);
  process.exit(1);
} finally {
  await probe.close();
}

const proxy = startPsdbProxy({ mysqlUrl, port, hostname: values.host, username, password, statementTimeoutMs });
console.log(`psdb-proxy listening: ${proxy.url.replace(/:[^:@/]*@/, ":***@")}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => void proxy.stop().then(() => process.exit(0)));
}
