/**
 * Load generator process: N simulated legacy phones on raw Bun.connect
 * sockets sending precomputed analyze frames, driven by the orchestrator
 * (scripts/bench.ts) over IPC: init -> connect -> run -> close.
 *   closed loop (rate 0): every phone keeps `inflight` messages outstanding;
 *   open loop (rate R): R msgs/s spread round-robin over the phones, latency
 *   measured from each message's SCHEDULED send time.
 * A reply is matched to the oldest outstanding message of its phone (both
 * botgate and the echo server answer a connection in order).
 */
import type { Socket } from "bun";
import { analyzeTemplate, deviceId, handshakeLine, presign, sign, VAR_BYTES, type FrameTemplate } from "./frames.ts";
import { LatencyHistogram } from "./histogram.ts";
import { cpuSeconds, emit, serve } from "./ipc.ts";
import { StallProbe } from "./stall-probe.ts";

const LF = 10;
const CLS_OFFSET = 10; // `{"event":"` is 10 bytes: the next byte names the event
const C_ANALYZE = 97; // 'a': the echo server sent our frame back
const C_ERROR = 101; // 'e'
const C_RESPONSE = 109; // 'm': messageResponse
const MAX_OUTSTANDING = 100_000;
const enc = new TextEncoder();

interface InitArgs {
  host: string;
  port: number;
  gen: number;
  phones: number;
  inflight: number;
  rate: number;
  textBytes: number;
  presignPerPhone: number;
  unique: boolean;
}

let args: InitArgs;
let firstTs = 0;
let running = false;
let measuring = false;
/**
 * Send times (performance.now ms) of the measurement window: a message sent inside it counts
 * in the latency histogram whenever its answer comes, also after the window (while draining),
 * so a saturated phase's queued tail is not left out of p99.
 */
let windowStart = Infinity;
let windowEnd = Infinity;
const hist = new LatencyHistogram();
const counts = { sent: 0, replies: 0, errors: 0, signedOnTheFly: 0, droppedByGenerator: 0, closedEarly: 0 };
let scratch = new Uint8Array(0);

class Phone {
  readonly device: string;
  readonly tpl: FrameTemplate;
  pool: Uint8Array = new Uint8Array(0);
  poolCount = 0;
  next = 0;
  sock: Socket<Phone> | null = null;
  out: Uint8Array | null = null;
  // FIFO of send times (ms, performance.now clock)
  ring = new Float64Array(16);
  head = 0;
  len = 0;
  // reply framing across chunks
  linePos = 0;
  cls = 0;
  handshake: ((line: string | null) => void) | null = null;
  hsText = "";
  batch = 0;

  constructor(readonly index: number) {
    this.device = deviceId(args.gen, index);
    this.tpl = analyzeTemplate(this.device, `room-${args.gen}-${index}`, args.textBytes);
  }

  push(t: number): void {
    if (this.len === this.ring.length) {
      const bigger = new Float64Array(this.ring.length * 2);
      for (let i = 0; i < this.len; i++) bigger[i] = this.ring[(this.head + i) % this.ring.length]!;
      this.ring = bigger;
      this.head = 0;
    }
    this.ring[(this.head + this.len) % this.ring.length] = t;
    this.len++;
  }

  shift(): number {
    const t = this.ring[this.head]!;
    this.head = (this.head + 1) % this.ring.length;
    this.len--;
    return t;
  }

  /** Write `n` frames (send times already pushed) in one syscall. */
  sendFrames(n: number): void {
    const L = this.tpl.bytes.length;
    if (scratch.length < n * L) scratch = new Uint8Array(Math.max(n * L, scratch.length * 2));
    for (let i = 0; i < n; i++) this.#fill(scratch, i * L);
    counts.sent += n;
    const bytes = scratch.subarray(0, n * L);
    if (this.out !== null) {
      this.out = concat(this.out, bytes);
      return;
    }
    const w = this.sock!.write(bytes);
    if (w < 0) return;
    if (w < bytes.length) this.out = bytes.slice(w);
  }

  drain(): void {
    const o = this.out;
    if (o === null) return;
    this.out = null;
    const w = this.sock!.write(o);
    if (w >= 0 && w < o.length) this.out = o.subarray(w);
  }

  #fill(dst: Uint8Array, off: number): void {
    const { bytes, tsOff, sigOff } = this.tpl;
    dst.set(bytes, off);
    let k = this.next++;
    if (k >= this.poolCount) {
      if (!args.unique) k %= this.poolCount;
      else {
        // Out of presigned blocks: sign now (counted; raise --presign if this is not 0).
        counts.signedOnTheFly++;
        const ts = firstTs + k;
        enc.encodeInto(String(ts), dst.subarray(off + tsOff, off + tsOff + 13));
        enc.encodeInto(sign(this.device, ts), dst.subarray(off + sigOff, off + sigOff + 64));
        return;
      }
    }
    const p = k * VAR_BYTES;
    dst.set(this.pool.subarray(p, p + 13), off + tsOff);
    dst.set(this.pool.subarray(p + 13, p + VAR_BYTES), off + sigOff);
  }

  onData(chunk: Uint8Array): void {
    if (this.handshake !== null) return this.#handshakeData(chunk);
    const now = performance.now();
    let replies = 0;
    let start = -this.linePos;
    let nl = chunk.indexOf(LF);
    for (;;) {
      if (this.cls === 0) {
        const i = start + CLS_OFFSET;
        if (i >= 0 && i < chunk.length && (nl === -1 || i < nl)) this.cls = chunk[i]!;
      }
      if (nl === -1) break;
      const c = this.cls;
      this.cls = 0;
      if (c === C_RESPONSE || c === C_ANALYZE || c === C_ERROR) {
        if (this.len > 0) {
          const t = this.shift();
          if (measuring) {
            if (c === C_ERROR) counts.errors++;
            else counts.replies++; // throughput: answers inside the window
          }
          if (c !== C_ERROR && t >= windowStart && t < windowEnd) hist.record((now - t) * 1000);
          replies++;
        }
      }
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    this.linePos = chunk.length - start;
    if (running && args.rate === 0 && replies > 0) {
      for (let i = 0; i < replies; i++) this.push(now);
      this.sendFrames(replies);
    }
  }

  #handshakeData(chunk: Uint8Array): void {
    const s = new TextDecoder().decode(chunk);
    const i = s.indexOf("\n");
    if (i < 0) {
      this.hsText += s;
      return;
    }
    const line = this.hsText + s.slice(0, i);
    this.hsText = "";
    const done = this.handshake!;
    this.handshake = null;
    done(line);
    if (i + 1 < s.length) this.onData(enc.encode(s.slice(i + 1)));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}

let phones: Phone[] = [];

async function connectOne(p: Phone): Promise<void> {
  const line = new Promise<string | null>((resolve) => (p.handshake = resolve));
  p.sock = await Bun.connect<Phone>({
    hostname: args.host,
    port: args.port,
    data: p,
    socket: {
      data: (s, chunk) => s.data.onData(chunk),
      drain: (s) => s.data.drain(),
      close: (s) => {
        if (running) counts.closedEarly++;
        s.data.handshake?.(null);
      },
      error: () => {},
      connectError: () => {},
    },
  });
  p.sock.setNoDelay(true);
  p.sock.write(handshakeLine(p.device));
  const first = await line;
  if (first === null) throw new Error(`phone ${p.device}: closed during the handshake`);
  if (first.includes('"handshakeComplete"') && !first.includes('"approved":true')) throw new Error(`phone ${p.device} not approved: ${first}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

serve({
  init(m) {
    args = m as unknown as InitArgs;
    const t0 = performance.now();
    // Auth timestamps: per phone consecutive ms (each block must be unique), from 30 s ago.
    // The server accepts +/- 5 min: a phone's k-th message is sent about `elapsed` after this
    // and carries firstTs + k ms, so it stays inside the window while elapsed <= ~270 s
    // (phase.ts refuses longer phases) and k <= ~330,000.
    firstTs = Date.now() - 30_000;
    phones = Array.from({ length: args.phones }, (_, i) => new Phone(i));
    for (const p of phones) {
      p.pool = presign(p.device, firstTs, args.presignPerPhone);
      p.poolCount = args.presignPerPhone;
    }
    return { presignMs: performance.now() - t0, frameBytes: phones[0]!.tpl.bytes.length, presigned: args.phones * args.presignPerPhone };
  },
  async connect() {
    const t0 = performance.now();
    const WAVE = 200;
    for (let i = 0; i < phones.length; i += WAVE) await Promise.all(phones.slice(i, i + WAVE).map(connectOne));
    return { connectMs: performance.now() - t0 };
  },
  async run(m) {
    const warmupMs = m.warmupMs as number;
    const durationMs = m.durationMs as number;
    const drainMs = (m.drainMs as number) ?? 3000;
    running = true;
    const t0 = performance.now();
    let ticker: ReturnType<typeof setInterval> | undefined;
    let catchUp = () => {};
    if (args.rate === 0) {
      for (const p of phones) {
        for (let i = 0; i < args.inflight; i++) p.push(t0);
        p.sendFrames(args.inflight);
      }
    } else {
      let j = 0;
      const perMs = args.rate / 1000;
      const touched: Phone[] = [];
      const tick = () => {
        const now = performance.now();
        const due = Math.floor((now - t0) * perMs);
        for (; j < due; j++) {
          const p = phones[j % phones.length]!;
          if (p.len >= MAX_OUTSTANDING) {
            counts.droppedByGenerator++;
            continue;
          }
          p.push(t0 + j / perMs);
          if (p.batch++ === 0) touched.push(p);
        }
        for (const p of touched) {
          p.sendFrames(p.batch);
          p.batch = 0;
        }
        touched.length = 0;
      };
      ticker = setInterval(tick, 1);
      catchUp = tick;
    }
    await sleep(warmupMs);
    const probe = new StallProbe(m.stallProbe === true); // a gap in it is a late measurement by this generator
    hist.reset();
    counts.replies = counts.errors = 0;
    const sentAtStart = counts.sent;
    measuring = true;
    const c0 = cpuSeconds();
    const w0 = performance.now();
    windowStart = w0;
    await sleep(durationMs);
    catchUp(); // open loop: what came due since the last tick is sent inside the window too
    measuring = false;
    const w1 = performance.now();
    windowEnd = w1;
    const c1 = cpuSeconds();
    running = false;
    clearInterval(ticker);
    const stall = probe.take();
    probe.stop();
    const result = {
      windowSec: (w1 - w0) / 1000,
      replies: counts.replies,
      errors: counts.errors,
      sentInWindow: counts.sent - sentAtStart,
      genCpuSec: c1 - c0,
      hist: null as ReturnType<typeof hist.toJSON> | null, // after the drain, below
      stall,
      signedOnTheFly: counts.signedOnTheFly,
      droppedByGenerator: counts.droppedByGenerator,
      closedEarly: counts.closedEarly,
      outstandingAtEnd: 0,
      drainedMs: 0,
    };
    // Let the server finish what is in flight before the next phase (not measured).
    const d0 = performance.now();
    const outstanding = () => phones.reduce((a, p) => a + p.len, 0);
    while (outstanding() > 0 && performance.now() - d0 < drainMs) await sleep(10);
    result.outstandingAtEnd = outstanding();
    result.drainedMs = performance.now() - d0;
    // Sent in the window and still unanswered: counted at their age now, a lower bound.
    const end = performance.now();
    for (const p of phones) {
      for (let i = 0; i < p.len; i++) {
        const t = p.ring[(p.head + i) % p.ring.length]!;
        if (t >= windowStart && t < windowEnd) hist.record((end - t) * 1000);
      }
    }
    result.hist = hist.toJSON();
    windowStart = windowEnd = Infinity;
    return result;
  },
  close() {
    for (const p of phones) p.sock?.end();
    return {};
  },
});

emit("ready", { pid: process.pid });
