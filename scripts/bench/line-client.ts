/** A small line-oriented Bun.connect client for the soak and conns scripts (text lines, promise helpers). */
import type { Socket } from "bun";

export class LineClient {
  sock!: Socket<LineClient>;
  readonly lines: string[] = [];
  isClosed = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #buf = "";
  #dec = new TextDecoder();
  #waiter: (() => void) | null = null;
  #out: Uint8Array | null = null;

  constructor() {
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  static async connect(host: string, port: number): Promise<LineClient> {
    const c = new LineClient();
    c.sock = await Bun.connect<LineClient>({ hostname: host, port, data: c, socket: HANDLERS });
    return c;
  }

  write(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (this.#out !== null) {
      const o = new Uint8Array(this.#out.length + bytes.length);
      o.set(this.#out);
      o.set(bytes, this.#out.length);
      this.#out = o;
      return;
    }
    const n = this.sock.write(bytes);
    if (n >= 0 && n < bytes.length) this.#out = bytes.slice(n);
  }

  /** Resolves with the first buffered line matching pred (removed), or null on close/timeout. */
  async next(pred: (line: string) => boolean, timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex(pred);
      if (i >= 0) return this.lines.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (this.isClosed || left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiter = () => (clearTimeout(t), r());
      });
    }
  }

  /** Wait for the peer to close, up to timeoutMs; true if it did. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return true;
    let t: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => (t = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(t);
    return ok;
  }

  onData(chunk: Uint8Array): void {
    this.#buf += this.#dec.decode(chunk, { stream: true });
    let i: number;
    while ((i = this.#buf.indexOf("\n")) >= 0) {
      this.lines.push(this.#buf.slice(0, i));
      this.#buf = this.#buf.slice(i + 1);
    }
    this.#wake();
  }

  onDrain(): void {
    const o = this.#out;
    if (o === null) return;
    this.#out = null;
    const n = this.sock.write(o);
    if (n >= 0 && n < o.length) this.#out = o.subarray(n);
  }

  onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#resolveClosed();
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }
}

const HANDLERS = {
  data: (s: Socket<LineClient>, chunk: Uint8Array) => s.data.onData(chunk),
  drain: (s: Socket<LineClient>) => s.data.onDrain(),
  close: (s: Socket<LineClient>) => s.data.onClose(),
  error: (s: Socket<LineClient>) => s.data.onClose(),
  end: (s: Socket<LineClient>) => void s.end(),
  connectError: () => {},
};
