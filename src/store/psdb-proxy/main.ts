// CLI: bun src/store/psdb-proxy/main.ts --mysql mysql://root@127.0.0.1:3306/test --port 3900
//      [--host 127.0.0.1] [--user botgate] [--password secret]   (or PSDB_PROXY_USER / PSDB_PROXY_PASSWORD)
import { parseArgs } from "node:util";
import { SQL } from "bun";
import { startPsdbProxy } from "./proxy.ts";

const { values } = parseArgs({
  options: {
    mysql: { type: "string" },
    port: { type: "string", default: "3900" },
    host: { type: "string", default: "127.0.0.1" },
    user: { type: "string" },
    password: { type: "string" },
  },
});

const mysqlUrl = values.mysql ?? process.env.PSDB_PROXY_MYSQL;
const username = values.user ?? process.env.PSDB_PROXY_USER ?? "botgate";
const password = values.password ?? process.env.PSDB_PROXY_PASSWORD ?? "";
const port = Number(values.port);
if (!mysqlUrl || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("usage: main.ts --mysql mysql://user:pass@host:3306/db [--port 3900] [--host 127.0.0.1] [--user u --password p]");
  process.exit(2);
}
if (!password) console.warn("psdb-proxy: no password set (--password or PSDB_PROXY_PASSWORD); anyone who can reach the port can run SQL");

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

const proxy = startPsdbProxy({ mysqlUrl, port, hostname: values.host, username, password });
console.log(`psdb-proxy listening: ${proxy.url.replace(/:[^:@/]*@/, ":***@")}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => void proxy.stop().then(() => process.exit(0)));
}
