/**
 * `bun scripts/bench-store.ts [--pings N] [--devices D] [--upserts U] [--no-prefill]`
 *
 * SQLite store micro-benchmark (file in a temp dir, WAL, as the gateway opens it):
 *   1. N pings recorded one by one (`await store.recordPing(p)`), round-robin over D devices;
 *   2. the same N pings through PingWriter (add all, then close);
 *   3. U handshake upserts of new devices, then U upserts of the same devices again
 *      (the reconnect-storm path: the device exists, its status is kept).
 * Unless --no-prefill is given, every device starts with `pingRetention` (1000) rows,
 * so each ping is in the steady state where retention has something to delete.
 * Prints wall and CPU microseconds per operation. One process, no network.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { silentLogger } from "../src/log/logger.ts";
import { PingWriter } from "../src/store/ping-writer.ts";
import { openSqliteStore } from "../src/store/sqlite.ts";
import { DEFAULT_PING_RETENTION, type DeviceStore, type PingRecord } from "../src/store/types.ts";
import { parseFlags } from "./bench/flags.ts";

const USAGE = `bun scripts/bench-store.ts [options]
  --pings N         pings to record (default 20000)
  --devices D       devices the pings go round-robin over (default 200)
  --upserts U       handshake upserts per pass (default 10000)
  --no-prefill      start every device empty instead of with ${DEFAULT_PING_RETENTION} ping rows`;
const f = parseFlags(process.argv.slice(2), { pings: 20_000, devices: 200, upserts: 10_000, "no-prefill": false }, USAGE);
const N = f.pings;
const D = f.devices;
const U = f.upserts;
const prefill = !f["no-prefill"];
for (const [name, n] of [["pings", N], ["devices", D], ["upserts", U]] as const) {
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${n}\n\n${USAGE}`);
    process.exit(2);
  }
}

const dir = mkdtempSync(join(tmpdir(), "botgate-bench-store-"));

function pingsFor(n: number, devices: number, offset: number): PingRecord[] {
  const at = new Date().toISOString();
  const monitoring = { total_memory: 2048, memory_usage: 512.5, memory_percent: 25, message_queue_size: 0, active_rooms: 10 };
  return Array.from({ length: n }, (_, i) => ({ botName: "bench", deviceId: `dev-${(i + offset) % devices}`, rttMs: 12.5, monitoring, at }));
}

/** Gives every device `rows` pings directly (one transaction), outside the measurement. */
function fill(path: string, devices: number, rows: number): void {
  const db = new DatabaseSync(path);
  const ins = db.prepare("INSERT INTO kb_ping_monitor (bot_name, device_id, rtt_ms, monitoring, created_at) VALUES (?, ?, ?, ?, ?)");
  const at = new Date().toISOString();
  db.exec("BEGIN");
  for (let r = 0; r < rows; r++) for (let d = 0; d < devices; d++) ins.run("bench", `dev-${d}`, 1, null, at);
  db.exec("COMMIT");
  db.close();
}

async function measure(label: string, ops: number, fn: () => Promise<void>): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallUs = (performance.now() - t0) * 1000;
  const c = process.cpuUsage(c0);
  const cpuUs = c.user + c.system;
  console.log(
    `${label.padEnd(44)} ${ops.toString().padStart(7)} ops  ${(wallUs / ops).toFixed(1).padStart(7)} us/op wall  ${(cpuUs / ops).toFixed(1).padStart(7)} us/op CPU`,
  );
}

async function fresh(name: string): Promise<{ store: DeviceStore; path: string }> {
  const path = join(dir, name, "devices.db");
  const store = await openSqliteStore({ path });
  if (prefill) {
    await store.close();
    fill(path, D, DEFAULT_PING_RETENTION);
    return { store: await openSqliteStore({ path }), path };
  }
  return { store, path };
}

try {
  console.log(`bench-store: SQLite file in ${dir}; ${N} pings over ${D} devices${prefill ? `, each prefilled with ${DEFAULT_PING_RETENTION} rows` : ""}; ${U} upserts`);

  {
    const { store } = await fresh("one-by-one");
    const pings = pingsFor(N, D, 0);
    await measure("recordPing, one by one (awaited)", N, async () => {
      for (const p of pings) await store.recordPing(p);
    });
    await store.close();
  }

  {
    const { store } = await fresh("writer");
    const pings = pingsFor(N, D, 0);
    const writer = new PingWriter(store, {}, silentLogger);
    await measure("PingWriter.add, defaults (500/batch), + close", N, async () => {
      for (const p of pings) writer.add(p);
      await writer.close();
    });
    if (writer.stats.written !== N) console.log(`  (written ${writer.stats.written}, dropped ${writer.stats.dropped}, failed batches ${writer.stats.failedBatches})`);
    await store.close();
  }

  {
    const { store } = await fresh("upserts");
    const hs = (i: number) => ({
      botName: "bench",
      deviceId: `phone-${i}`,
      ipAddress: "192.168.1.100",
      clientType: "MessengerBotR",
      clientVersion: "3.2.1",
      clientInfo: "samsung SM-G991N (Android 13, API 33)",
    });
    await measure("upsertOnHandshake, new devices", U, async () => {
      for (let i = 0; i < U; i++) await store.upsertOnHandshake(hs(i), "pending");
    });
    await measure("upsertOnHandshake, existing devices", U, async () => {
      for (let i = 0; i < U; i++) await store.upsertOnHandshake(hs(i), "pending");
    });
    await measure("get", U, async () => {
      for (let i = 0; i < U; i++) await store.get("bench", `phone-${i}`);
    });
    await store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
