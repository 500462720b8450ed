import type { Connection } from "../transport/types.ts";

/**
 * The only way bytes reach a socket. Writes made in the same tick are
 * coalesced into one syscall; what the kernel does not take is kept (in
 * order) and resumed on drain. Above `capBytes` of unsent data the peer is a
 * slow consumer and `onOverflow` fires once.
 */
export class WriteQueue {
  readonly #conn: Connection;
  readonly #capBytes: number;
  readonly #onOverflow: () => void;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #blocked = false;
  #closed = false;
  #waiters: Array<() => void> = [];
  bytesWritten = 0;

  constructor(conn: Connection, capBytes: number, onOverflow: () => void) {
    this.#conn = conn;
    this.#capBytes = capBytes;
    this.#onOverflow = onOverflow;
  }

  /** Queue bytes; false when the queue is closed or just overflowed. */
  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes > this.#capBytes) {
      this.close();
      this.#onOverflow();
      return false;
    }
    if (!this.#blocked && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
    return true;
  }

  /** The socket can take more. */
  drain(): void {
    this.#blocked = false;
    this.#flush();
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get idle(): boolean {
    return this.#pendingBytes === 0;
  }

  /** Resolves when everything queued so far reached the kernel, or the queue closed. */
  whenFlushed(): Promise<void> {
    if (this.#pendingBytes === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stop writing; pending bytes are discarded and waiters released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#release();
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.#blocked || this.#closed || this.#pending.length === 0) return;
    const buf = this.#pending.length === 1 ? this.#pending[0]! : concat(this.#pending, this.#pendingBytes);
    const n = this.#conn.write(buf);
    if (n < 0) {
      this.close();
      return;
    }
    this.bytesWritten += n;
    if (n >= buf.length) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#release();
    } else {
      this.#pending = [buf.subarray(n)];
      this.#pendingBytes = buf.length - n;
      this.#blocked = true;
    }
  };

  #release(): void {
    const w = this.#waiters;
    if (w.length === 0) return;
    this.#waiters = [];
    for (const r of w) r();
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
