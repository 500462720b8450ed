/**
 * Server CPU per message WITHOUT sockets: the real gateway, pipeline and
 * example bot (startApp with an in-memory transport), fed the same
 * byte-exact, presigned analyze lines as `bun run bench`, several lines per
 * read. What it prints is botgate's own work per message (framing, parse,
 * auth, pipeline, handler, reply encode, write queue), with the syscalls
 * and the load generator taken out; use it to compare code changes, and
 * `--cpu-prof-md` on it for a profile without socket noise:
 *   bun scripts/bench-hotpath.ts [--phones 100] [--per-read 8] [--messages 400000] [--size 200] [--rounds 5]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../src/app.ts";
import { parseConfig } from "../src/config/options.ts";
import { createLogger } from "../src/log/logger.ts";
import type { Connection, ConnectionHandler, Listen } from "../src/transport/types.ts";
import { analyzeTemplate, BENCH_BOT, deviceId, fillFrame, handshakeLine, presign } from "./bench/frames.ts";
import { parseFlags } from "./bench/flags.ts";

const USAGE = "usage: bun scripts/bench-hotpath.ts [--phones 100] [--per-read 8] [--messages 400000] [--size 200] [--rounds 5]";
const f = parseFlags(process.argv.slice(2), { phones: 100, "per-read": 8, messages: 400_000, size: 200, rounds: 5 }, USAGE);
const phones = Math.max(1, Math.floor(f.phones));
const perRead = Math.max(1, Math.floor(f["per-read"]));
const total = Math.floor(f.messages);
const textBytes = Math.max(1, Math.floor(f.size));
const rounds = Math.max(1, Math.floor(f.rounds));
const perPhone = Math.ceil(total / phones / perRead) * perRead;
if (perPhone > 250_000) throw new Error("more than 250,000 messages per phone would leave the 5-minute auth window; add --phones");

/** A connection that accepts every byte at once and counts what it was given. */
class MemoryConnection implements Connection {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort: number;
  handler: ConnectionHandler | null = null;
  writes = 0;
  bytes = 0;
  constructor(port: number) {
    this.remotePort = port;
  }
  write(d: Uint8Array): number {
    this.bytes += d.length;
    this.writes++;
    return d.length;
  }
  end(): void {
    this.handler?.closed();
  }
  destroy(): void {
    this.handler?.closed();
  }
  pause(): void {}
  resume(): void {}
}

let accept: ((c: Connection) => ConnectionHandler) | null = null;
const listen: Listen = (_o, a) => {
  accept = a;
  return { hostname: "memory", port: 0, stop() {} };
};

const dir = mkdtempSync(join(tmpdir(), "botgate-hotpath-"));
const config = parseConfig({
  listen: { host: "127.0.0.1", port: 0 },
  store: { kind: "sqlite", path: join(dir, "bench.sqlite") },
  bots: [{ ...BENCH_BOT, autoApprove: true }],
  admin: { enabled: false },
  log: { level: "warn" },
});
const app = await startApp(config, { listen }, createLogger("warn", (l) => console.error(l.slice(0, 300))));

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

// Phones, handshaken.
const conns: MemoryConnection[] = [];
for (let i = 0; i < phones; i++) {
  const c = new MemoryConnection(10_000 + i);
  c.handler = accept!(c);
  c.handler.data(handshakeLine(deviceId(0, i)));
  conns.push(c);
}
await until(() => app.gateway.sessions.size === phones && conns.every((c) => c.writes >= 1), "handshakes");

// Every read: perRead consecutive presigned lines of one phone, built before timing.
const firstTs = Date.now();
process.stderr.write(`presigning ${phones * perPhone} messages ... `);
const reads: Uint8Array[][] = [];
for (let i = 0; i < phones; i++) {
  const dev = deviceId(0, i);
  const tpl = analyzeTemplate(dev, `room-${i}`, textBytes);
  const signed = presign(dev, firstTs, perPhone);
  const L = tpl.bytes.length;
  const chunks: Uint8Array[] = [];
  for (let k = 0; k < perPhone; k += perRead) {
    const chunk = new Uint8Array(L * perRead);
    for (let j = 0; j < perRead; j++) fillFrame(chunk, j * L, tpl, signed, k + j);
    chunks.push(chunk);
  }
  reads.push(chunks);
}
process.stderr.write("done\n");

const readsPerPhone = perPhone / perRead;
// One untimed warm-up round first (JIT tiers, allocator and heap growth), then `rounds` timed ones.
const perRound = Math.floor(readsPerPhone / (rounds + 1));
const out = app.gateway.metrics.messagesOut;
const replies = () => out.get("messageResponse");
const results: number[] = [];
let at = 0;
for (let r = 0; r <= rounds; r++) {
  Bun.gc(true);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  // Round-robin over phones, like reads arriving from many sockets. Each read is a
  // fresh copy, as a runtime hands over a new buffer per read: the bytes are in
  // cache, as after the kernel's copy (the presigned reads, ~300 MB, are not).
  for (let k = at; k < at + perRound; k++) for (let i = 0; i < phones; i++) conns[i]!.handler!.data(new Uint8Array(reads[i]![k]!));
  await until(() => replies() >= (at + perRound) * perRead * phones, "replies");
  const cpu = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  const n = perRound * perRead * phones;
  if (r > 0) results.push(((cpu.user + cpu.system) * 1000) / n);
  console.log(`${r === 0 ? "warm-up" : `round ${r}`}: ${n} messages in ${ms.toFixed(0)} ms wall, ${(((cpu.user + cpu.system) * 1000) / n).toFixed(0)} ns CPU per message, ${Math.round(n / (ms / 1000)).toLocaleString("en-US")} msgs/s`);
  at += perRound;
}
const errors = app.gateway.metrics.authFailures.total() + app.gateway.metrics.protocolErrors.total();
results.sort((a, b) => a - b);
const mid = results.length >> 1;
const median = results.length % 2 === 1 ? results[mid]! : (results[mid - 1]! + results[mid]!) / 2;
console.log(`median ${median.toFixed(0)}, best ${results[0]!.toFixed(0)} ns CPU per message (${phones} phones, ${perRead} lines per read, ${textBytes} B text); errors ${errors}`);
if (errors > 0) {
  console.error(JSON.stringify({ auth: Object.fromEntries(app.gateway.metrics.authFailures.values), protocol: Object.fromEntries(app.gateway.metrics.protocolErrors.values) }));
  process.exitCode = 1;
}
await app.stop();
rmSync(dir, { recursive: true, force: true });
