/**
 * One benchmark phase: a server process (botgate or the echo limit) plus G
 * generator processes, all on loopback. Returns merged figures.
 */
import { join } from "node:path";
import { LatencyHistogram } from "./histogram.ts";
import { Child, SERVER_BUN_FLAGS } from "./ipc.ts";
import type { Stalls } from "./stall-probe.ts";

export interface PhaseSpec {
  name: string;
  server: "botgate" | "echo";
  connections: number;
  inflight: number;
  /** Total msgs/s over all generators; 0 = closed loop. */
  rate: number;
  textBytes: number;
  warmupMs: number;
  durationMs: number;
  generators: number;
  /** Msgs/s to presign for (closed loop); beyond it generators sign on the fly and say so. */
  presignRate: number;
  serverConfig?: Record<string, unknown>;
  /** Run the 1 ms event-loop stall timer in every process (it costs some CPU; off by default). */
  stallProbe?: boolean;
}

export interface PhaseResult {
  name: string;
  server: string;
  mode: string;
  connections: number;
  frameBytes: number;
  throughput: number;
  replies: number;
  errors: number;
  latencyUs: { p50: number; p99: number; p999: number; max: number };
  serverCpuUsPerMsg: number;
  serverCpuPct: number;
  serverRssMiB: number;
  generatorCpuPct: number[];
  /** Event-loop gaps over the measured window (scripts/bench/stall-probe.ts). */
  serverStall: Stalls;
  generatorStall: Stalls[];
  signedOnTheFly: number;
  droppedByGenerator: number;
  closedEarly: number;
  outstandingAtEnd: number;
  presignMs: number;
  connectMs: number;
  serverStats?: unknown;
}

const here = import.meta.dir;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runPhase(spec: PhaseSpec): Promise<PhaseResult> {
  const script = spec.server === "echo" ? join(here, "echo-server.ts") : join(here, "server.ts");
  const probeArg = spec.stallProbe ? ["--stall-probe"] : [];
  const server = new Child(`${spec.name}/server`, script, spec.server === "echo" ? probeArg : [JSON.stringify(spec.serverConfig ?? {}), ...probeArg], { bunFlags: SERVER_BUN_FLAGS });
  const gens: Child[] = [];
  try {
    const ready = await server.event<{ port: number }>("ready", 30_000);
    const G = Math.max(1, Math.min(spec.generators, spec.connections));
    for (let g = 0; g < G; g++) gens.push(new Child(`${spec.name}/gen${g}`, join(here, "loadgen.ts")));
    await Promise.all(gens.map((c) => c.event("ready", 30_000)));
    const secs = (spec.warmupMs + spec.durationMs) / 1000 + 1;
    const unique = spec.server === "botgate";
    // Signed timestamps start 30 s back (loadgen.ts) and must stay within the server's +/- 5 min.
    if (unique && secs > 240) throw new Error(`a botgate phase of ${secs - 1} s would outlast the +/-5 min auth window of its presigned timestamps: use --duration + --warmup <= 239`);
    const inits = await Promise.all(
      gens.map((c, g) => {
        const phones = Math.floor(spec.connections / G) + (g < spec.connections % G ? 1 : 0);
        const perPhoneRate = (spec.rate > 0 ? spec.rate : spec.presignRate) / spec.connections;
        const presignPerPhone = unique ? Math.ceil(perPhoneRate * secs * 1.1) + spec.inflight + 8 : 64;
        if (presignPerPhone > 300_000) throw new Error("more than 300,000 messages per phone would leave the +/-5 min auth window: use more --connections or a shorter --duration");
        return c.request("init", { host: "127.0.0.1", port: ready.port, gen: g, phones, inflight: spec.inflight, rate: spec.rate / G, textBytes: spec.textBytes, presignPerPhone, unique }, 300_000);
      }),
    );
    const conns = await Promise.all(gens.map((c) => c.request("connect", {}, 120_000)));
    await server.request("gc");
    const runs = gens.map((c) => c.request("run", { warmupMs: spec.warmupMs, durationMs: spec.durationMs, drainMs: 3000, stallProbe: spec.stallProbe === true }, spec.warmupMs + spec.durationMs + 60_000));
    await sleep(spec.warmupMs);
    const s0 = await server.request("usage");
    await sleep(spec.durationMs);
    const s1 = await server.request("usage");
    const results = await Promise.all(runs);
    const serverStats = spec.server === "botgate" ? await server.request("stats") : undefined;

    const hist = new LatencyHistogram();
    let replies = 0;
    let errors = 0;
    let throughput = 0;
    const sum = (k: string) => results.reduce((a, r) => a + (r[k] as number), 0);
    for (const r of results) {
      hist.merge(LatencyHistogram.from(r.hist));
      replies += r.replies;
      errors += r.errors;
      throughput += r.replies / r.windowSec;
    }
    const serverWallSec = (s1.t - s0.t) / 1000;
    const serverCpuSec = s1.cpu - s0.cpu;
    return {
      name: spec.name,
      server: spec.server,
      mode: spec.rate > 0 ? `open ${Math.round(spec.rate)}/s` : `closed x${spec.inflight}`,
      connections: spec.connections,
      frameBytes: inits[0].frameBytes,
      throughput,
      replies,
      errors,
      latencyUs: { p50: hist.quantile(0.5), p99: hist.quantile(0.99), p999: hist.quantile(0.999), max: hist.max },
      serverCpuUsPerMsg: throughput > 0 ? ((serverCpuSec / serverWallSec) * 1e6) / throughput : NaN,
      serverCpuPct: (serverCpuSec / serverWallSec) * 100,
      serverRssMiB: s1.rss / 2 ** 20,
      generatorCpuPct: results.map((r) => (r.genCpuSec / r.windowSec) * 100),
      serverStall: s1.stall,
      generatorStall: results.map((r) => r.stall),
      signedOnTheFly: sum("signedOnTheFly"),
      droppedByGenerator: sum("droppedByGenerator"),
      closedEarly: sum("closedEarly"),
      outstandingAtEnd: sum("outstandingAtEnd"),
      presignMs: Math.max(...inits.map((i) => i.presignMs)),
      connectMs: Math.max(...conns.map((c) => c.connectMs)),
      serverStats,
    };
  } finally {
    await Promise.all(gens.map((c) => c.request("close", {}, 5000).catch(() => {})));
    await server.request("stop", {}, 10_000).catch(() => {});
    await Promise.race([server.exited, sleep(5000)]);
    for (const c of [...gens, server]) c.kill();
    await Promise.all([...gens, server].map((c) => c.exited));
  }
}
