/**
 * Client process of `bun run bench:conns`: many authenticated, otherwise idle
 * phones that answer every server ping with a fresh signed auth block (signed
 * ahead of time). Commands: connect, resetPings, pings, storm, close.
 */
import type { Socket } from "bun";
import { deviceId, handshakeLine, pingReplyLine, sign } from "./frames.ts";
import { emit, serve } from "./ipc.ts";

const dec = new TextDecoder();
let host = "127.0.0.1";
let port = 0;
let pingsAnswered = 0;
let firstTs = 0;

class Phone {
  readonly device: string;
  sock: Socket<Phone> | null = null;
  buf = "";
  sigs: string[] = [];
  used = 0;
  onHandshake: ((ok: boolean) => void) | null = null;
  constructor(readonly index: number) {
    this.device = deviceId(90, index);
  }

  onData(chunk: Uint8Array): void {
    this.buf += dec.decode(chunk);
    let i: number;
    while ((i = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (line.startsWith('{"event":"ping"')) this.#pong(line);
      else if (line.startsWith('{"event":"handshakeComplete"')) {
        const h = this.onHandshake;
        this.onHandshake = null;
        h?.(line.includes('"approved":true'));
      }
    }
  }

  #pong(line: string): void {
    const st = JSON.parse(line).data.server_timestamp as number;
    const k = this.used++;
    const ts = firstTs + k;
    const sig = k < this.sigs.length ? this.sigs[k]! : sign(this.device, ts);
    this.sock?.write(pingReplyLine(this.device, st, ts, sig));
    pingsAnswered++;
  }
}

const HANDLERS = {
  data: (s: Socket<Phone>, c: Uint8Array) => s.data.onData(c),
  close: (s: Socket<Phone>) => {
    if (s.data.sock === s) s.data.sock = null;
    s.data.onHandshake?.(false);
  },
  error: () => {},
  connectError: () => {},
  drain: () => {},
};

let phones: Phone[] = [];

/** Connect and hand shake; ms from `t0` (by default its own start) to handshakeComplete, -1 on failure. */
async function connectOne(p: Phone, t0 = performance.now()): Promise<number> {
  try {
    const done = new Promise<boolean>((r) => (p.onHandshake = r));
    p.buf = "";
    p.sock = await Bun.connect<Phone>({ hostname: host, port, data: p, socket: HANDLERS });
    p.sock.write(handshakeLine(p.device));
    return (await done) ? performance.now() - t0 : -1;
  } catch {
    p.onHandshake = null;
    return -1;
  }
}

function summarize(times: number[], t0: number) {
  const ok = times.filter((t) => t >= 0).sort((a, b) => a - b);
  const q = (x: number) => (ok.length ? ok[Math.min(ok.length - 1, Math.floor(x * ok.length))]! : NaN);
  return { ok: ok.length, failed: times.length - ok.length, wallMs: performance.now() - t0, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: ok.at(-1) ?? NaN };
}

serve({
  init(m) {
    host = m.host as string;
    port = m.port as number;
    firstTs = Date.now() - 120_000;
    phones = Array.from({ length: m.phones as number }, (_, i) => new Phone(i));
    const t0 = performance.now();
    for (const p of phones) p.sigs = Array.from({ length: m.presignPings as number }, (_, k) => sign(p.device, firstTs + k));
    return { presignMs: performance.now() - t0 };
  },
  /** Connect in waves (a steady ramp, not the storm). */
  async connect(m) {
    const wave = (m.wave as number) ?? 500;
    const t0 = performance.now();
    const times: number[] = [];
    for (let i = 0; i < phones.length; i += wave) times.push(...(await Promise.all(phones.slice(i, i + wave).map((p) => connectOne(p)))));
    return summarize(times, t0);
  },
  resetPings() {
    pingsAnswered = 0;
    return {};
  },
  pings: () => ({ answered: pingsAnswered }),
  /** Every phone drops its connection (RST) and reconnects at once. */
  async storm() {
    // Every phone's time counts from the drop, not from its own connect call (the calls start
    // one after another in this loop over 10,000 sockets, which took ~0.45 s).
    const t0 = performance.now();
    for (const p of phones) p.sock?.terminate();
    const times = await Promise.all(phones.map((p) => connectOne(p, t0)));
    return summarize(times, t0);
  },
  close() {
    for (const p of phones) p.sock?.end();
    return {};
  },
});

emit("ready", { pid: process.pid });
