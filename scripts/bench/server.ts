/**
 * The system under test: the real botgate (startApp) on 127.0.0.1:<random>,
 * SQLite store in a temp dir, the example bot with autoApprove. Reports its
 * own CPU, RSS and resource counts to the parent over IPC.
 *   bun scripts/bench/server.ts '<JSON config overrides>' [--stall-probe]
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/options.ts";
import { createLogger } from "../../src/log/logger.ts";
import * as bun from "../../src/runtime/bun.ts";
import { BENCH_BOT } from "./frames.ts";
import { cpuSeconds, emit, serve } from "./ipc.ts";
import { StallProbe } from "./stall-probe.ts";

type Obj = Record<string, unknown>;
function merge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur) ? merge(cur as Obj, v as Obj) : v;
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "botgate-bench-"));
const dbPath = join(dir, "bench.sqlite");
const overrides = JSON.parse(process.argv[2] ?? "{}") as Obj;
const config = parseConfig(
  merge(
    {
      listen: { host: "127.0.0.1", port: 0 },
      store: { kind: "sqlite", path: dbPath },
      bots: [{ ...BENCH_BOT, autoApprove: true }],
      admin: { enabled: false },
      log: { level: "warn" },
    },
    overrides,
  ),
);
const logCounts: Record<string, number> = {};
let printed = 0;
const log = createLogger(config.log.level, (line) => {
  const level = /"level":"(\w+)"/.exec(line)?.[1] ?? "?";
  logCounts[level] = (logCounts[level] ?? 0) + 1;
  if (printed++ < 20) console.error(line.slice(0, 400));
});
const app = await startApp(config, bun, log);
const g = app.gateway;
const probe = new StallProbe(process.argv.slice(3).includes("--stall-probe"));

/** `stall` covers the time since the previous usage(): the orchestrator reads it at the start and the end of the window. */
function usage() {
  const m = process.memoryUsage();
  return { cpu: cpuSeconds(), rss: m.rss, heapUsed: m.heapUsed, t: performance.now(), stall: probe.take() };
}

function openFds(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

function labeled(c: { values: Map<string, number> }): Record<string, number> {
  return Object.fromEntries(c.values);
}

/** kB fields of /proc/self/smaps_rollup (Linux), e.g. Rss, Anonymous, Shared_Clean. */
function smapsRollup(): Record<string, number> {
  try {
    const out: Record<string, number> = {};
    for (const m of readFileSync("/proc/self/smaps_rollup", "utf8").matchAll(/^(\w+):\s+(\d+) kB/gm)) out[m[1]!] = Number(m[2]);
    return out;
  } catch {
    return {};
  }
}

/** RSS in kB per kind of mapping (/proc/self/smaps): anonymous, [heap], [stack], or the file's base name. */
function rssByMapping(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    let name = "";
    for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) {
        const path = head[1]!.trim();
        name = path === "" ? "anonymous" : path.startsWith("[") ? path : path.split("/").pop()!;
        continue;
      }
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss) out[name] = (out[name] ?? 0) + Number(rss[1]);
    }
  } catch {
    // not Linux
  }
  return out;
}

/** The SQLite files on disk and what a second (read-only) connection sees; the gateway's own cache is not visible from here. */
function sqliteFiles(): Record<string, number> {
  const size = (p: string) => (existsSync(p) ? statSync(p).size : -1);
  const out: Record<string, number> = { dbBytes: size(dbPath), walBytes: size(`${dbPath}-wal`), shmBytes: size(`${dbPath}-shm`) };
  try {
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const one = (sql: string) => Object.values(db.prepare(sql).get() as Record<string, number>)[0]!;
      out.pageSize = one("PRAGMA page_size");
      out.pageCount = one("PRAGMA page_count");
      out.freelistCount = one("PRAGMA freelist_count");
      out.defaultCacheSize = one("PRAGMA cache_size");
      out.walAutocheckpoint = one("PRAGMA wal_autocheckpoint");
      out.devices = one("SELECT COUNT(*) FROM kb_bot_devices");
      out.pings = one("SELECT COUNT(*) FROM kb_ping_monitor");
    } finally {
      db.close();
    }
  } catch (err) {
    out.error = -1;
  }
  return out;
}

serve({
  /** Where the RSS is: smaps_rollup, RSS per mapping, the SQLite files. */
  async memory() {
    Bun.gc(true);
    const { heapStats, memoryUsage, totalCompileTime } = await import("bun:jsc");
    const h = heapStats();
    const jsc = { heapSize: h.heapSize, heapCapacity: h.heapCapacity, extraMemorySize: h.extraMemorySize, mimalloc: memoryUsage(), compileMs: Math.round(totalCompileTime()) };
    return { usage: usage(), rollup: smapsRollup(), byMapping: rssByMapping(), sqlite: sqliteFiles(), pingWriter: g.pingWriter.stats, jsc };
  },
  usage,
  gc() {
    Bun.gc(true);
    Bun.gc(true);
    return usage();
  },
  /** JS object counts by type after a full GC (bun:jsc), to see what a session is made of. */
  async heapTypes() {
    const { heapStats } = await import("bun:jsc");
    Bun.gc(true);
    return heapStats().objectTypeCounts;
  },
  stats() {
    const m = g.metrics;
    return {
      connections: g.connections.size,
      sessions: g.sessions.size,
      resources: g.tracker.counts(),
      leaksReleased: g.tracker.leaksReleased,
      replayEntries: g.auth.replayEntries,
      pipeline: g.dispatcher?.stats() ?? null,
      openFds: openFds(),
      handshakesOk: m.handshakesOk.value,
      handshakesFailed: labeled(m.handshakesFailed),
      closed: labeled(m.connectionsClosed),
      messagesIn: labeled(m.messagesIn),
      messagesOut: labeled(m.messagesOut),
      authFailures: labeled(m.authFailures),
      protocolErrors: labeled(m.protocolErrors),
      takeovers: m.takeovers.value,
      logs: logCounts,
      ...usage(),
    };
  },
  /**
   * Expire the replay cache as if the auth window had passed. Its entries
   * are bounded by time, not leaks; the soak calls this before its final RSS reading.
   */
  expireReplay() {
    const before = g.auth.replayEntries;
    // Not prune() with a future time: that would also refuse every block signed before it (AUTH_STALE).
    g.auth.clearReplay();
    return { before, after: g.auth.replayEntries };
  },
  async stop() {
    probe.stop();
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
    setTimeout(() => process.exit(0), 10);
    return usage();
  },
});

emit("ready", { port: app.listener.port, pid: process.pid, config: { pingIntervalMs: config.pingIntervalMs, idleTimeoutMs: config.idleTimeoutMs, handshakeTimeoutMs: config.handshakeTimeoutMs } });
