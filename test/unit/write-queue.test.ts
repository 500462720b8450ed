import { describe, expect, test } from "bun:test";
import { WriteQueue } from "../../src/session/write-queue.ts";
import type { Connection } from "../../src/transport/types.ts";

/** A fake socket that accepts at most `budget` bytes until drained, like Bun's write(). */
class FakeConn implements Connection {
  remoteAddress = "127.0.0.1";
  remotePort = 1;
  received: number[] = [];
  budget = Infinity;
  closed = false;
  writes = 0;
  write(d: Uint8Array): number {
    if (this.closed) return -1;
    this.writes++;
    const n = Math.min(d.length, this.budget);
    this.budget -= n;
    for (let i = 0; i < n; i++) this.received.push(d[i]!);
    return n;
  }
  end() {}
  destroy() {
    this.closed = true;
  }
  pause() {}
  resume() {}
}

const tick = () => new Promise<void>((r) => queueMicrotask(r));
const bytes = (...xs: number[]) => new Uint8Array(xs);

describe("WriteQueue", () => {
  test("writes in one tick are coalesced into one write, in order", async () => {
    const c = new FakeConn();
    const q = new WriteQueue(c, 1024, { onWriteOverflow() {} });
    q.write(bytes(1, 2));
    q.write(bytes(3));
    q.write(bytes(4, 5, 6));
    expect(c.writes).toBe(0);
    await tick();
    expect(c.writes).toBe(1);
    expect(c.received).toEqual([1, 2, 3, 4, 5, 6]);
    expect(q.pendingBytes).toBe(0);
  });

  test("a partial write keeps the remainder and resumes on drain without loss or reordering", async () => {
    const c = new FakeConn();
    c.budget = 3;
    const q = new WriteQueue(c, 1024, { onWriteOverflow() {} });
    for (let i = 0; i < 10; i++) q.write(bytes(i));
    await tick();
    expect(c.received).toEqual([0, 1, 2]);
    expect(q.pendingBytes).toBe(7);
    q.write(bytes(10)); // queued behind the blocked remainder, not written now
    await tick();
    expect(c.received).toEqual([0, 1, 2]);
    c.budget = 4;
    q.drain();
    expect(c.received).toEqual([0, 1, 2, 3, 4, 5, 6]);
    c.budget = Infinity;
    const flushed = q.whenFlushed();
    q.drain();
    await flushed;
    expect(c.received).toEqual([...Array(11).keys()]);
  });

  test("a zero-byte write waits for drain", async () => {
    const c = new FakeConn();
    c.budget = 0;
    const q = new WriteQueue(c, 1024, { onWriteOverflow() {} });
    q.write(bytes(9, 9));
    await tick();
    expect(q.pendingBytes).toBe(2);
    c.budget = Infinity;
    q.drain();
    expect(c.received).toEqual([9, 9]);
  });

  test("exceeding the cap fires onOverflow once and refuses further writes", async () => {
    const c = new FakeConn();
    c.budget = 0;
    let overflows = 0;
    const q = new WriteQueue(c, 10, { onWriteOverflow: () => overflows++ });
    expect(q.write(new Uint8Array(6))).toBe(true);
    await tick();
    expect(q.write(new Uint8Array(6))).toBe(false);
    expect(q.write(new Uint8Array(1))).toBe(false);
    expect(overflows).toBe(1);
    expect(q.pendingBytes).toBe(0);
  });

  test("one part bigger than the whole cap is refused alone: the queue stays open, no overflow", async () => {
    const c = new FakeConn();
    let overflows = 0;
    const q = new WriteQueue(c, 10, { onWriteOverflow: () => overflows++ });
    expect(q.writeLine("x".repeat(10))).toBe(false); // 11 bytes with its LF
    expect(q.write(new Uint8Array(11))).toBe(false);
    expect(overflows).toBe(0);
    expect(q.writeLine("ok")).toBe(true);
    await tick();
    expect(String.fromCharCode(...c.received)).toBe("ok\n");
  });

  test("the size that counts for 'too big alone' is UTF-8 bytes, blocked or not: a Korean line over the cap is refused, the queue stays open", async () => {
    for (const blocked of [false, true]) {
      const c = new FakeConn();
      let overflows = 0;
      const q = new WriteQueue(c, 64, { onWriteOverflow: () => overflows++ });
      if (blocked) {
        c.budget = 1;
        q.write(new Uint8Array(2)); // a partial write: the queue is now blocked
        await tick();
      }
      expect(q.writeLine("가".repeat(30))).toBe(false); // 30 UTF-16 units, 91 bytes with its LF
      expect(q.writeLine("😀".repeat(10))).toBe(true); // 20 units, 41 bytes: fits
      expect(overflows).toBe(0);
    }
  });

  test("a closed socket (-1) closes the queue and releases waiters", async () => {
    const c = new FakeConn();
    c.closed = true;
    const q = new WriteQueue(c, 100, { onWriteOverflow() {} });
    q.write(bytes(1));
    const w = q.whenFlushed();
    await tick();
    await w;
    expect(q.write(bytes(2))).toBe(false);
  });
  test("text lines are encoded at the flush, in order with bytes, LF added, counted exactly", async () => {
    const c = new FakeConn();
    const encoded: number[] = [];
    const q = new WriteQueue(c, 1024, { onWriteOverflow() {}, onEncoded: (n) => encoded.push(n) });
    q.writeLine('{"room":"테스트방 🎉"}');
    q.write(bytes(7));
    q.writeLine("ascii");
    expect(c.writes).toBe(0);
    await tick();
    expect(c.writes).toBe(1);
    const want = [...new TextEncoder().encode('{"room":"테스트방 🎉"}\n'), 7, ...new TextEncoder().encode("ascii\n")];
    expect(c.received).toEqual(want);
    expect(encoded).toEqual([want.length - 1]);
    expect(q.pendingBytes).toBe(0);
  });

  test("the rest of a partial write survives other queues' flushes (the join buffer is shared)", async () => {
    const a = new FakeConn();
    a.budget = 5;
    const qa = new WriteQueue(a, 1 << 20, { onWriteOverflow() {} });
    const b = new FakeConn();
    const qb = new WriteQueue(b, 1 << 20, { onWriteOverflow() {} });
    qa.writeLine("가나다라마");
    qa.writeLine("bytes after");
    await tick();
    expect(a.received.length).toBe(5);
    qb.writeLine("x".repeat(500)); // reuses the join buffer
    qb.writeLine("y".repeat(500));
    await tick();
    a.budget = Infinity;
    qa.drain();
    expect(new TextDecoder().decode(new Uint8Array(a.received))).toBe("가나다라마\nbytes after\n");
    expect(new TextDecoder().decode(new Uint8Array(b.received))).toBe("x".repeat(500) + "\n" + "y".repeat(500) + "\n");
  });

  test("behind a blocked write, text lines count their exact UTF-8 bytes against the cap", async () => {
    const c = new FakeConn();
    c.budget = 0;
    let overflows = 0;
    const q = new WriteQueue(c, 100, { onWriteOverflow: () => overflows++ });
    expect(q.writeLine("a")).toBe(true);
    await tick(); // blocked now, 2 bytes kept
    expect(q.pendingBytes).toBe(2);
    expect(q.writeLine("한".repeat(30))).toBe(true); // 91 bytes: 93 in all
    expect(q.pendingBytes).toBe(93);
    expect(q.writeLine("한".repeat(3))).toBe(false); // 10 more: over 100
    expect(overflows).toBe(1);
  });

  test("a flush larger than the shared join buffer gets its own buffer", async () => {
    const c = new FakeConn();
    const q = new WriteQueue(c, 4 << 20, { onWriteOverflow() {} });
    const big = "é".repeat(200_000); // 400,000 bytes of UTF-8
    q.writeLine(big);
    q.writeLine("end");
    await tick();
    expect(c.received.length).toBe(400_000 + 1 + 4);
    expect(new TextDecoder().decode(new Uint8Array(c.received.slice(-4)))).toBe("end\n");
  });
});
