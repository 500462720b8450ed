import type { Connection } from "../transport/types.ts";

/**
 * The only way bytes reach a socket. Writes made in the same tick are
 * coalesced into one syscall; what the kernel does not take is kept (in
 * order) and resumed on drain. Above `capBytes` of unsent data the peer is a
 * slow consumer and the owner's `onWriteOverflow()` is called once.
 *
 * An idle queue holds no arrays; one process-wide microtask flushes every
 * queue written in the tick.
 */
export class WriteQueue {
  static #toFlush: WriteQueue[] = [];
  static #scheduled = false;

  readonly #conn: Connection;
  readonly #capBytes: number;
  readonly #owner: { onWriteOverflow(): void };
  /** Unsent buffers in order; null when empty. */
  #pending: Uint8Array[] | null = null;
  #pendingBytes = 0;
  #dirty = false;
  #blocked = false;
  #closed = false;
  #waiters: Array<() => void> | null = null;
  bytesWritten = 0;

  constructor(conn: Connection, capBytes: number, owner: { onWriteOverflow(): void }) {
    this.#conn = conn;
    this.#capBytes = capBytes;
    this.#owner = owner;
  }

  /** Queue bytes; false when the queue is closed or just overflowed. */
  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#pending === null) this.#pending = [bytes];
    else this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes > this.#capBytes) {
      this.close();
      this.#owner.onWriteOverflow();
      return false;
    }
    if (!this.#blocked && !this.#dirty) {
      this.#dirty = true;
      WriteQueue.#toFlush.push(this);
      if (!WriteQueue.#scheduled) {
        WriteQueue.#scheduled = true;
        queueMicrotask(WriteQueue.#flushAll);
      }
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
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  /** Stop writing; pending bytes are discarded and waiters released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = null;
    this.#pendingBytes = 0;
    this.#release();
  }

  static #flushAll = (): void => {
    WriteQueue.#scheduled = false;
    const list = WriteQueue.#toFlush;
    WriteQueue.#toFlush = [];
    for (let i = 0; i < list.length; i++) list[i]!.#flush();
  };

  #flush(): void {
    this.#dirty = false;
    const pending = this.#pending;
    if (this.#blocked || this.#closed || pending === null) return;
    const buf = pending.length === 1 ? pending[0]! : concat(pending, this.#pendingBytes);
    const n = this.#conn.write(buf);
    if (n < 0) {
      this.close();
      return;
    }
    this.bytesWritten += n;
    if (n >= buf.length) {
      this.#pending = null;
      this.#pendingBytes = 0;
      this.#release();
    } else {
      this.#pending = [buf.subarray(n)];
      this.#pendingBytes = buf.length - n;
      this.#blocked = true;
    }
  }

  #release(): void {
    const w = this.#waiters;
    if (w === null) return;
    this.#waiters = null;
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
