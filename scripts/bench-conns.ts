/**
 * `bun run bench:conns`: 10,000 concurrent authenticated idle phones against
 * a real botgate process on loopback. Reports server RSS per phone (after
 * GC), server CPU per ping cycle, and how long 10,000 phones that drop and
 * reconnect at once take to be re-authenticated. Writes
 * results/bench-conns-<timestamp>.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseFlags } from "./bench/flags.ts";
import { Child, SERVER_BUN_FLAGS } from "./bench/ipc.ts";

const USAGE = `bun run bench:conns [-- options]
  --phones N        concurrent phones (default 10000)
  --ping-ms MS      server ping interval for the CPU figure (default 4000)
  --cycles C        ping cycles to measure (default 2)
  --quick           200 phones, 1 ping cycle of 500 ms
  --diag            print the server's memory breakdown (smaps, SQLite, JSC heap) at each reading
  --out DIR         results folder (default results)`;
const f = parseFlags(process.argv.slice(2), { phones: 10_000, "ping-ms": 4000, cycles: 2, quick: false, diag: false, out: "results" }, USAGE);
if (f.quick) Object.assign(f, { phones: 200, "ping-ms": 500, cycles: 1 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** RSS after a full GC and a 1 s pause (the allocators return freed pages on their own schedule), as the soak reads it. */
async function diag(when: string): Promise<void> {
  const m = await server.request("memory");
  const r = m.rollup as Record<string, number>;
  const top = Object.entries(m.byMapping as Record<string, number>).sort((a, b) => b[1] - a[1]).slice(0, 4);
  console.log(`    [diag] ${when}: rss ${r.Rss} kB (anon ${r.Anonymous}); ${top.map(([k, v]) => `${k} ${v}`).join(", ")}`);
  console.log(`    [diag] sqlite ${JSON.stringify(m.sqlite)}; jsc ${JSON.stringify(m.jsc)}`);
}
async function settled(): Promise<{ rss: number; heapUsed: number }> {
  await server.request("gc");
  await sleep(1000);
  return server.request("gc");
}
const MiB = 2 ** 20;
const serverCfg = { pingIntervalMs: f["ping-ms"], idleTimeoutMs: f["ping-ms"] * 3, handshakeTimeoutMs: 10_000 };
const server = new Child("conns/server", join(import.meta.dir, "bench/server.ts"), [JSON.stringify(serverCfg)], { bunFlags: SERVER_BUN_FLAGS });
const client = new Child("conns/phones", join(import.meta.dir, "bench/idle-phones.ts"));
let code = 1;
try {
  const { port } = await server.event<{ port: number }>("ready", 30_000);
  await client.event("ready", 30_000);
  await client.request("init", { host: "127.0.0.1", port, phones: f.phones, presignPings: f.cycles + 4 }, 120_000);
  await sleep(200);
  const base = await settled();
  const types0: Record<string, number> = await server.request("heapTypes");
  console.log(`bench:conns: ${f.phones} phones, server ping every ${f["ping-ms"]} ms; server RSS before ${(base.rss / MiB).toFixed(1)} MiB`);

  const conn = await client.request("connect", { wave: 500 }, 300_000);
  await sleep(500);
  const s1 = await server.request("stats");
  // Per phone that is really connected (a failed connect must not make the figure look smaller).
  const connected = Math.max(1, s1.sessions);
  const quick = await server.request("gc");
  const full = await settled();
  if (f.diag) await diag("after connect");
  const types1: Record<string, number> = await server.request("heapTypes");
  const perPhoneTypes = Object.entries(types1)
    .map(([k, v]) => [k, (v - (types0[k] ?? 0)) / connected] as const)
    .filter(([, v]) => v >= 0.5)
    .sort((a, b) => b[1] - a[1]);
  const rssPer = (full.rss - base.rss) / connected;
  const heapPer = (full.heapUsed - base.heapUsed) / connected;
  console.log(`  connected ${conn.ok}/${f.phones} in ${(conn.wallMs / 1000).toFixed(2)} s (handshake p50 ${conn.p50Ms.toFixed(1)} ms, p99 ${conn.p99Ms.toFixed(1)} ms); sessions on server ${s1.sessions}`);
  console.log(`  server RSS ${(full.rss / MiB).toFixed(1)} MiB: ${(rssPer / 1024).toFixed(2)} KiB RSS and ${(heapPer / 1024).toFixed(2)} KiB JS heap per idle authenticated phone`);
  console.log(`    (RSS read right after the GC, before the 1 s pause: ${(quick.rss / MiB).toFixed(1)} MiB, ${((quick.rss - base.rss) / connected / 1024).toFixed(2)} KiB per phone)`);

  console.log(`  JS objects per phone: ${perPhoneTypes.reduce((a, [, v]) => a + v, 0).toFixed(0)} (${perPhoneTypes.slice(0, 12).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")})`);
  await client.request("resetPings");
  const u0 = await server.request("usage");
  await sleep(f["ping-ms"] * f.cycles);
  const u1 = await server.request("usage");
  const pings = (await client.request("pings")).answered;
  const cycles = (u1.t - u0.t) / f["ping-ms"];
  const cpuPerCycleMs = ((u1.cpu - u0.cpu) / cycles) * 1000;
  const cpuPerPingUs = pings > 0 ? ((u1.cpu - u0.cpu) / pings) * 1e6 : NaN;
  console.log(`  ping cycles: ${pings} pings answered in ${cycles.toFixed(2)} intervals; server CPU ${cpuPerCycleMs.toFixed(1)} ms per ping cycle (${cpuPerPingUs.toFixed(1)} us per phone ping), ${(((u1.cpu - u0.cpu) / ((u1.t - u0.t) / 1000)) * 100).toFixed(1)}% of a core`);
  // Steady state: every phone has now answered signed pings (auth prefix state, replay
  // entries, last monitoring object, ping rows written), which the first reading predates.
  const pinged = await settled();
  if (f.diag) {
    await diag("after the ping cycles");
    const t2: Record<string, number> = await server.request("heapTypes");
    const added = Object.entries(t2).map(([k, v]) => [k, (v - (types1[k] ?? 0)) / connected] as const).filter(([, v]) => Math.abs(v) >= 0.3);
    console.log(`    [diag] JS objects per phone added by the ping cycles: ${added.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ") || "none"}`);
  }
  const rssPinged = (pinged.rss - base.rss) / connected;
  console.log(`  after the ping cycles: server RSS ${(pinged.rss / MiB).toFixed(1)} MiB: ${(rssPinged / 1024).toFixed(2)} KiB RSS and ${((pinged.heapUsed - base.heapUsed) / connected / 1024).toFixed(2)} KiB JS heap per phone`);

  const storm = await client.request("storm", {}, 120_000);
  await sleep(300);
  const s2 = await server.request("stats");
  console.log(`  reconnect storm: ${storm.ok}/${f.phones} re-authenticated, last after ${(storm.maxMs / 1000).toFixed(2)} s (p50 ${storm.p50Ms.toFixed(0)} ms, p99 ${storm.p99Ms.toFixed(0)} ms), failed ${storm.failed}; sessions on server ${s2.sessions}, closed ${JSON.stringify(s2.closed)}`);

  const targets = [
    { target: `<= 4 KiB RSS per idle authenticated phone at ${f.phones}`, measured: `${(rssPer / 1024).toFixed(2)} KiB`, met: conn.ok === f.phones && rssPer <= 4096 },
    { target: `<= 4 KiB RSS per idle authenticated phone at ${f.phones}, after its signed ping answers`, measured: `${(rssPinged / 1024).toFixed(2)} KiB`, met: conn.ok === f.phones && rssPinged <= 4096 },
    { target: `${f.phones} phones reconnecting at once re-authenticated within 3 s`, measured: `${storm.ok}/${f.phones} in ${(storm.maxMs / 1000).toFixed(2)} s`, met: storm.ok === f.phones && storm.maxMs <= 3000 },
  ];
  console.log("");
  for (const t of targets) console.log(`  ${t.met ? "met   " : "MISSED"}  ${t.target}: ${t.measured}`);
  mkdirSync(f.out, { recursive: true });
  const file = `${f.out}/bench-conns-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "?", loadavg: loadavg(), bun: Bun.version };
  writeFileSync(file, JSON.stringify({ options: f, machine, base, connect: conn, afterConnect: { stats: s1, mem: full, rssPerPhone: rssPer, heapPerPhone: heapPer, objectsPerPhone: Object.fromEntries(perPhoneTypes) }, ping: { pings, cycles, cpuPerCycleMs, cpuPerPingUs, mem: pinged, rssPerPhone: rssPinged }, storm, afterStorm: s2, targets }, null, 2));
  console.log(`\nwrote ${file}`);
  code = conn.ok === f.phones && storm.ok === f.phones ? 0 : 1;
} catch (err) {
  console.error("bench:conns: error:", err);
} finally {
  await client.request("close", {}, 10_000).catch(() => {});
  await server.request("stop", {}, 20_000).catch(() => {});
  await Promise.race([server.exited, sleep(3000)]);
  server.kill();
  client.kill();
}
process.exit(code);
