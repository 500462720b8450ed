import { describe, expect, test } from "bun:test";
import { HmacKey, LineFramer, type LineSink } from "../../src/wasm/core.ts";
import { rng } from "./random.ts";

const enc = new TextEncoder();
type Event = ["line", string] | ["oversize", number];

/** Records events; lines are copied (they may be views of the pushed chunk). */
function recorder(): { sink: LineSink; events: Event[] } {
  const events: Event[] = [];
  const dec = new TextDecoder("latin1");
  return {
    events,
    sink: {
      line: (b) => {
        expect(b.length).toBeGreaterThan(0);
        events.push(["line", dec.decode(b.slice())]);
      },
      oversize: (n) => events.push(["oversize", n]),
    },
  };
}

const latin1 = (b: Uint8Array) => new TextDecoder("latin1").decode(b);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

/** Random line contents: ASCII, Korean + emoji, raw bytes (CR allowed mid-line, never LF), empty. */
function randomLine(next: () => number, maxLen: number): Uint8Array {
  const kind = next();
  if (kind < 0.1) return new Uint8Array(0);
  if (kind < 0.3) return enc.encode("안녕하세요 🎉 ".repeat(1 + ((next() * 5) | 0)));
  const n = (next() * maxLen) | 0;
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let v = (next() * 256) | 0;
    if (v === 10) v = 11;
    b[i] = v;
  }
  return b;
}

interface Model { wire: Uint8Array; expected: Event[]; tail: number }

/** Builds the byte stream and what a correct framer must report for it. */
function model(lines: Uint8Array[], crlf: (i: number) => boolean, max: number, tail?: Uint8Array): Model {
  const parts: Uint8Array[] = [];
  const expected: Event[] = [];
  lines.forEach((content, i) => {
    const raw = crlf(i) ? concat([content, Uint8Array.of(13)]) : content;
    parts.push(raw, Uint8Array.of(10));
    if (raw.length > max) expected.push(["oversize", -1]);
    else {
      const line = raw.length > 0 && raw[raw.length - 1] === 13 ? raw.subarray(0, raw.length - 1) : raw;
      if (line.length > 0) expected.push(["line", latin1(line)]);
    }
  });
  let tailLen = 0;
  if (tail && tail.length > 0) {
    parts.push(tail);
    if (tail.length > max) expected.push(["oversize", -1]);
    else tailLen = tail.length;
  }
  return { wire: concat(parts), expected, tail: tailLen };
}

/** Splits at random cut points; `style` picks chunk sizes. */
function split(next: () => number, wire: Uint8Array, style: "random" | "bytes" | "one" | "big"): Uint8Array[] {
  if (style === "one") return [wire];
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < wire.length; ) {
    const n = style === "bytes" ? 1 : style === "big" ? 1 + ((next() * 200_000) | 0) : 1 + ((next() * 700) | 0);
    chunks.push(wire.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

function run(framer: LineFramer, chunks: Uint8Array[]): Event[] {
  const { sink, events } = recorder();
  for (const c of chunks) {
    framer.push(c, sink);
    expect(framer.bufferedBytes).toBeLessThanOrEqual(framer.maxLineBytes);
  }
  return events;
}

/** Oversize byte counts are only bounded (> max), so normalise them for comparison. */
function normalise(events: Event[], max: number): Event[] {
  return events.map((e) => {
    if (e[0] === "oversize") {
      expect(e[1]).toBeGreaterThan(max);
      return ["oversize", -1];
    }
    return e;
  });
}

describe("LineFramer: lines come back exactly under any chunking", () => {
  for (const style of ["random", "bytes", "one", "big"] as const) {
    test(`chunking: ${style}`, () => {
      for (let seed = 1; seed <= (style === "bytes" ? 4 : 25); seed++) {
        const next = rng(seed * 101);
        const lines = Array.from({ length: 5 + ((next() * 200) | 0) }, () => randomLine(next, 600));
        const tail = next() < 0.5 ? randomLine(next, 300) : undefined;
        const m = model(lines, () => next() < 0.5, 128 * 1024, tail);
        const framer = new LineFramer();
        const got = run(framer, split(next, m.wire, style));
        expect(got).toEqual(m.expected);
        expect(framer.bufferedBytes).toBe(m.tail);
      }
    });
  }

  test("~70 KB lines inside multi-MB chunks (several WASM scan windows)", () => {
    const next = rng(7);
    const lines = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? randomLine(next, 40) : concat([new Uint8Array(60_000).fill(120), randomLine(next, 12_000)])));
    const m = model(lines, (i) => i % 2 === 0, 128 * 1024);
    expect(m.wire.length).toBeGreaterThan(2_000_000);
    for (const style of ["one", "big", "random"] as const) {
      expect(run(new LineFramer(), split(next, m.wire, style))).toEqual(m.expected);
    }
  });

  test("bufferedBytes is 0 after a complete line and counts the partial line", () => {
    const f = new LineFramer();
    const { sink, events } = recorder();
    f.push(enc.encode("hello\r\nwor"), sink);
    expect(f.bufferedBytes).toBe(3);
    f.push(enc.encode("ld"), sink);
    expect(f.bufferedBytes).toBe(5);
    f.push(enc.encode("\n"), sink);
    expect(f.bufferedBytes).toBe(0);
    f.push(enc.encode("\r\n\n\r\n"), sink); // empty lines are not delivered
    expect(events).toEqual([["line", "hello"], ["line", "world"]]);
    expect(f.bufferedBytes).toBe(0);
  });

  test("UTF-8 split inside a multi-byte character", () => {
    const text = "안녕하세요 🎉";
    const wire = enc.encode(`${text}\r\n${text}\n`);
    const f = new LineFramer();
    const got: string[] = [];
    for (let i = 0; i < wire.length; i += 5) {
      f.push(wire.subarray(i, i + 5), { line: (b) => got.push(new TextDecoder().decode(b)), oversize: () => {} });
    }
    expect(got).toEqual([text, text]);
  });
});

describe("LineFramer: oversize lines", () => {
  for (const style of ["random", "bytes", "one", "big"] as const) {
    test(`reported once, following lines delivered (${style})`, () => {
      const max = 300;
      for (let seed = 1; seed <= 20; seed++) {
        const next = rng(seed * 7919);
        const lines = Array.from({ length: 40 + ((next() * 60) | 0) }, () => randomLine(next, next() < 0.3 ? 2000 : 200));
        lines.push(new Uint8Array(max).fill(65), new Uint8Array(max + 1).fill(66)); // boundary: max fits, max+1 does not
        const tail = next() < 0.5 ? new Uint8Array(max + 50).fill(67) : undefined;
        const m = model(lines, (i) => i % 3 === 0, max, tail);
        expect(m.expected.some((e) => e[0] === "oversize")).toBe(true);
        const framer = new LineFramer(max);
        const got = run(framer, split(next, m.wire, style));
        expect(normalise(got, max)).toEqual(m.expected);
        expect(framer.bufferedBytes).toBe(m.tail);
      }
    });
  }

  test("detected as soon as buffered bytes exceed the cap, not at the LF", () => {
    const f = new LineFramer(100);
    const { sink, events } = recorder();
    f.push(new Uint8Array(60).fill(97), sink);
    expect(events).toEqual([]);
    f.push(new Uint8Array(60).fill(97), sink);
    expect(events).toEqual([["oversize", 120]]);
    expect(f.bufferedBytes).toBe(0);
    f.push(new Uint8Array(500).fill(97), sink); // still the same line: discarded, not reported again
    expect(f.bufferedBytes).toBe(0);
    f.push(enc.encode("aaa\nnext\n"), sink);
    expect(events).toEqual([["oversize", 120], ["line", "next"]]);
  });

  test("CR counts toward the cap (the cap applies to the bytes before LF)", () => {
    const f = new LineFramer(4);
    const { sink, events } = recorder();
    f.push(enc.encode("abcd\nabc\r\nabcd\r\n"), sink);
    expect(events).toEqual([["line", "abcd"], ["line", "abc"], ["oversize", 5]]);
  });

  test("rejects a non-positive cap", () => {
    expect(() => new LineFramer(0)).toThrow(RangeError);
    expect(() => new LineFramer(1.5)).toThrow(RangeError);
  });
});

describe("LineFramer: sinks that re-enter", () => {
  const big = (n: number, tag: string) => enc.encode(Array.from({ length: n }, (_, i) => `${tag}${i}`.padEnd(40, ".")).join("\n") + "\n");

  test("reset() inside a sink stops the current push", () => {
    const f = new LineFramer();
    const got: string[] = [];
    f.push(big(100, "x"), {
      line: (b) => {
        got.push(latin1(b));
        if (got.length === 3) f.reset();
      },
      oversize: () => {},
    });
    expect(got.length).toBe(3);
    expect(f.bufferedBytes).toBe(0);
  });

  test("a sink may push into another framer and create keys (memory growth) mid-scan", () => {
    const outer = new LineFramer();
    const inner = new LineFramer();
    const innerLines: string[] = [];
    const outerLines: string[] = [];
    const keys: HmacKey[] = [];
    const payload = big(2000, "o");
    outer.push(payload, {
      line: (b) => {
        // The line is a view of WASM memory: copied before anything may grow memory (which detaches it).
        const own = b.slice();
        outerLines.push(latin1(own));
        inner.push(big(3, `i${outerLines.length}-`), { line: (x) => innerLines.push(latin1(x)), oversize: () => {} });
        for (let i = 0; i < 3; i++) keys.push(new HmacKey(own.subarray(0, 8)));
      },
      oversize: () => {},
    });
    expect(outerLines.length).toBe(2000);
    expect(outerLines[1999]).toBe("o1999".padEnd(40, "."));
    expect(outerLines.every((l, i) => l === `o${i}`.padEnd(40, "."))).toBe(true); // lines after each growth too
    expect(innerLines.length).toBe(6000);
    for (const k of keys) k.dispose();
  });
});
