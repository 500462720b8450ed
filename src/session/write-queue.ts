import type { Connection } from "../transport/types.ts";

export interface WriteQueueOwner {
  /** Unsent data passed capBytes: the peer stopped reading. */
  onWriteOverflow(): void;
  /** Bytes of text lines just encoded (exact; for the bytes-out metric). */
  onEncoded?(bytes: number): void;
}

const enc = new TextEncoder();
const LF = 10;
/**
 * Process-wide buffer that a flush joins its parts into. Connection.write()
 * keeps no reference to what it was given, so the next flush can reuse it.
 * Flushes larger than this get a buffer of their own (it never grows).
 */
const JOIN_BYTES = 256 * 1024;
let joinBuf: Uint8Array | null = null;

/**
 * The only way bytes reach a socket. Writes made in the same tick are
 * coalesced into one syscall; what the kernel does not take is kept (in
 * order) and resumed on drain. Above `capBytes` of unsent data the peer is a
 * slow consumer and the owner's `onWriteOverflow()` is called once.
 *
 * Text lines (writeLine) stay strings until the flush, which encodes them
 * straight into the outgoing buffer: no byte array per line, no second copy.
 * An idle queue holds no arrays; one process-wide microtask flushes every
 * queue written in the tick.
 */
export class WriteQueue {
  static #toFlush: WriteQueue[] = [];
  static #scheduled = false;

  readonly #conn: Connection;
  readonly #capBytes: number;
  readonly #owner: WriteQueueOwner;
  /** Unsent parts in order (bytes, or text lines without their LF); null when empty. */
  #pending: Array<Uint8Array | string> | null = null;
  #pendingBytes = 0;
  #dirty = false;
  #blocked = false;
  #closed = false;
  #waiters: Array<() => void> | null = null;
  bytesWritten = 0;

  constructor(conn: Connection, capBytes: number, owner: WriteQueueOwner) {
    this.#conn = conn;
    this.#capBytes = capBytes;
    this.#owner = owner;
  }

  /**
   * Queue bytes; false when the queue is closed or just overflowed, or when this part
   * alone is over the cap: it is refused and the queue stays open (a reply too big to
   * ever fit says nothing about the peer reading slowly).
   */
  write(bytes: Uint8Array): boolean {
    if (bytes.length > this.#capBytes) return false;
    return this.#queue(bytes, bytes.length);
  }

  /**
   * Queue `text` plus LF, UTF-8 encoded at the flush. Until then it counts as
   * text.length + 1 bytes (a lower bound: exact for ASCII, up to 3x under for
   * Korean); behind a blocked write it is encoded at once, so a backlog is
   * always counted exactly against the cap.
   */
  writeLine(text: string): boolean {
    if (this.#closed) return false;
    // Too big alone (in UTF-8 bytes: up to 3 per UTF-16 unit): refused, as in write(). Only
    // a long line is measured.
    if (text.length * 3 + 1 > this.#capBytes && utf8Length(text) + 1 > this.#capBytes) return false;
    if (!this.#blocked) return this.#queue(text, text.length + 1);
    const bytes = enc.encode(text + "\n");
    this.#owner.onEncoded?.(bytes.length);
    return this.#queue(bytes, bytes.length);
  }

  #queue(part: Uint8Array | string, size: number): boolean {
    if (this.#closed) return false;
    if (this.#pending === null) this.#pending = [part];
    else this.#pending.push(part);
    this.#pendingBytes += size;
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

  /** Resolves once the queue is empty (everything queued, including later writes, reached the kernel), or it closed. */
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
    const only = pending.length === 1 ? pending[0]! : null;
    const buf = only !== null && typeof only !== "string" ? only : this.#join(pending);
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
      // The shared join buffer is reused by the next flush: keep a copy of the rest.
      const rest = buf.buffer === joinBuf?.buffer ? buf.slice(n) : buf.subarray(n);
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
      this.#blocked = true;
    }
  }

  /** All parts, in order, as one byte buffer (text lines encoded, LF added). */
  #join(parts: Array<Uint8Array | string>): Uint8Array {
    let max = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      max += typeof p === "string" ? p.length * 3 + 1 : p.length; // UTF-8 is at most 3 bytes per UTF-16 unit
    }
    const out = max <= JOIN_BYTES ? (joinBuf ??= new Uint8Array(JOIN_BYTES)) : new Uint8Array(max);
    let o = 0;
    let encoded = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (typeof p === "string") {
        const start = o;
        o += enc.encodeInto(p, out.subarray(o)).written;
        out[o++] = LF;
        encoded += o - start;
      } else {
        out.set(p, o);
        o += p.length;
      }
    }
    if (encoded > 0) this.#owner.onEncoded?.(encoded);
    return out.subarray(0, o);
  }

  #release(): void {
    const w = this.#waiters;
    if (w === null) return;
    this.#waiters = null;
    for (const r of w) r();
  }
}

/** UTF-8 length of a string, without encoding it (a lone surrogate counts 3, as its replacement character). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
