/**
 * The limit: a minimal Bun TCP line-echo server. Sends back every complete
 * line it receives (a partial line waits for its end), keeps what the kernel
 * did not take and sends it on drain. Same IPC commands as server.ts.
 */
import { cpuSeconds, emit, serve } from "./ipc.ts";
import { StallProbe } from "./stall-probe.ts";

interface State {
  carry: Uint8Array | null;
  out: Uint8Array | null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}

function send(s: { write(b: Uint8Array): number; data: State }, bytes: Uint8Array): void {
  if (s.data.out !== null) {
    s.data.out = concat(s.data.out, bytes);
    return;
  }
  const n = s.write(bytes);
  if (n >= 0 && n < bytes.length) s.data.out = bytes.slice(n);
}

let connections = 0;
const listener = Bun.listen<State>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { carry: null, out: null };
      connections++;
    },
    data(s, chunk) {
      const last = chunk.lastIndexOf(10);
      if (last < 0) {
        s.data.carry = s.data.carry ? concat(s.data.carry, chunk) : chunk.slice();
        return;
      }
      let lines: Uint8Array = chunk.subarray(0, last + 1);
      if (s.data.carry) {
        lines = concat(s.data.carry, lines);
        s.data.carry = null;
      }
      if (last + 1 < chunk.length) s.data.carry = chunk.slice(last + 1);
      send(s, lines);
    },
    drain(s) {
      const out = s.data.out;
      if (out === null) return;
      s.data.out = null;
      send(s, out);
    },
    close() {
      connections--;
    },
    error() {},
  },
});

const probe = new StallProbe(process.argv.slice(2).includes("--stall-probe")); // the same probe as botgate's server

function usage() {
  const m = process.memoryUsage();
  return { cpu: cpuSeconds(), rss: m.rss, heapUsed: m.heapUsed, t: performance.now(), stall: probe.take() };
}

serve({
  usage,
  gc() {
    Bun.gc(true);
    return usage();
  },
  stats: () => ({ connections, ...usage() }),
  stop() {
    probe.stop();
    listener.stop(true);
    setTimeout(() => process.exit(0), 10);
    return usage();
  },
});

emit("ready", { port: listener.port, pid: process.pid });
