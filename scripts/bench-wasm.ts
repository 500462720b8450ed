// Micro-benchmark of the WASM hot path against JS / native baselines, all in one run.
//   bun scripts/bench-wasm.ts
//   npx deno run -A scripts/bench-wasm.ts
// Prints a table and writes results/bench-wasm-<runtime>.json.
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { HmacKey, LineFramer, verifyBatch, verifyPacked, type LineSink, type PackedItem, type VerifyItem } from "../src/wasm/core.ts";
import { copyAndScan } from "../src/wasm/framer.ts";
import { heap, L, wasm } from "../src/wasm/instance.ts";
import { AuthVerifier, newAuthMemo } from "../src/protocol/auth.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

declare const Deno: { version: { deno: string } } | undefined;
const runtime =
  typeof Bun !== "undefined" ? `bun ${Bun.version}` : typeof Deno !== "undefined" ? `deno ${Deno.version.deno}` : "other";

interface Row { name: string; nsPerOp: number; unit: string; note?: string }
const rows: Row[] = [];
let sink = 0; // defeats dead-code elimination

/** Median ns per op over 11 samples of ~20 ms each, after warm-up. */
function measure(name: string, opsPerCall: number, fn: () => void, unit = "op", note?: string): number {
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    if (performance.now() - t0 > 20) break;
    iters *= 2;
  }
  const samples: number[] = [];
  for (let s = 0; s < 11; s++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    samples.push(((performance.now() - t0) * 1e6) / (iters * opsPerCall));
  }
  samples.sort((a, b) => a - b);
  const ns = samples[5]!;
  rows.push({ name, nsPerOp: ns, unit, note });
  return ns;
}

// ---- newline scan: 64 KiB of 200-byte lines ----
const LINE = 200;
const buf = new Uint8Array(64 * 1024);
for (let i = 0; i < buf.length; i++) buf[i] = i % LINE === LINE - 1 ? 10 : 97 + (i % 26);
const MB = buf.length / 1e6;

const jsScan = measure("scan 64KiB: JS indexOf(10, i) loop", 1, () => {
  let n = 0;
  for (let p = buf.indexOf(10); p !== -1; p = buf.indexOf(10, p + 1)) n++;
  sink += n;
}, "64KiB");
heap.set(buf, L.frameIn);
const wasmScan = measure("scan 64KiB: WASM SIMD (data in memory)", 1, () => {
  sink += wasm.scanLF(L.frameIn, buf.length, L.frameOut);
}, "64KiB");
// The first step of LineFramer.push for one chunk (same function), without the line callbacks.
const wasmCopyScan = measure("scan 64KiB: WASM SIMD incl. copy in", 1, () => {
  sink += copyAndScan(buf, 0, buf.length);
}, "64KiB", "LineFramer's copyAndScan");

const countSink: LineSink = { line: (b) => { sink += b.length; }, oversize: () => { sink++; } };
/** Pure-JS reference: indexOf + subarray per line, CR strip, same sink; no carry handling (favours JS). */
function jsReferenceFramer(chunk: Uint8Array): void {
  let start = 0;
  for (let p = chunk.indexOf(10); p !== -1; p = chunk.indexOf(10, start)) {
    let end = p;
    if (end > start && chunk[end - 1] === 13) end--;
    if (end > start) countSink.line(chunk.subarray(start, end));
    start = p + 1;
  }
}
const jsFramer = measure("JS reference framer 64KiB chunk", 1, () => jsReferenceFramer(buf), "64KiB", "indexOf + subarray, no carry");
const framer = new LineFramer();
const pushWhole = measure("LineFramer.push 64KiB chunk", 1, () => framer.push(buf, countSink), "64KiB");
const chunks4k: Uint8Array[] = [];
for (let i = 0; i < buf.length; i += 4096) chunks4k.push(buf.subarray(i, i + 4096));
const push4k = measure("LineFramer.push 16 x 4KiB chunks", 1, () => {
  for (const c of chunks4k) framer.push(c, countSink);
}, "64KiB");
const chunks1k: Uint8Array[] = [];
for (let i = 0; i < buf.length; i += 1460) chunks1k.push(buf.subarray(i, i + 1460));
const push1k = measure("LineFramer.push 1460-byte chunks", 1, () => {
  for (const c of chunks1k) framer.push(c, countSink);
}, "64KiB");

// ---- per read, as a socket delivers: a fresh chunk holding one 749-byte line ----
// JavaScriptCore materialises a fresh typed array's ArrayBuffer on its first subarray;
// LineFramer hands out views of WASM memory instead (wasm/README.md). The cost of
// making the chunk is measured alone and subtracted from both framers.
const oneLine = new Uint8Array(749).fill(97);
oneLine[748] = 10;
const makeChunk = measure("per read: make a fresh 749-byte chunk (subtracted below)", 1, () => {
  sink += new Uint8Array(oneLine)[0]!;
}, "read");
const jsFreshTotal = measure("per read: JS reference framer, fresh 1-line chunk", 1, () => jsReferenceFramer(new Uint8Array(oneLine)), "read", "incl. making the chunk");
const pushFreshTotal = measure("per read: LineFramer.push, fresh 1-line chunk", 1, () => framer.push(new Uint8Array(oneLine), countSink), "read", "incl. making the chunk");

// ---- HMAC-SHA256: 32-byte key, 4096 messages of 100-200 bytes ----
const N = 4096;
const keyBytes = new Uint8Array(32).map((_, i) => (i * 7 + 3) & 255);
const key = new HmacKey(keyBytes);
const msgs: Uint8Array[] = [];
const macs: Uint8Array[] = [];
for (let i = 0; i < N; i++) {
  const m = new Uint8Array(100 + (i % 101)).map((_, j) => (i + j * 31) & 255);
  msgs.push(m);
  macs.push(new Uint8Array(createHmac("sha256", keyBytes).update(m).digest()));
}
const items: VerifyItem[] = msgs.map((m, i) => ({ key, message: m, mac: macs[i]! }));
const out: boolean[] = [];

const wasmSingle = measure("HMAC verify: WASM HmacKey.verify", N, () => {
  for (let i = 0; i < N; i++) if (key.verify(msgs[i]!, macs[i]!)) sink++;
}, "msg");
const wasmSign = measure("HMAC sign: WASM HmacKey.sign", N, () => {
  for (let i = 0; i < N; i++) sink += key.sign(msgs[i]!)[0]!;
}, "msg");
const wasmBatch = measure("HMAC verify: WASM verifyBatch (4096/call)", N, () => {
  verifyBatch(items, out);
  if (out[0]) sink++;
}, "msg");
const small = items.slice(0, 16);
const wasmBatch16 = measure("HMAC verify: WASM verifyBatch (16/call)", 16, () => {
  verifyBatch(small, out);
  if (out[0]) sink++;
}, "msg");
// The batch ratio is taken against the verify row (like-for-like); the sign-only row is printed for reference.
let bunVerify = NaN;
if (typeof Bun !== "undefined") {
  measure("HMAC: Bun.CryptoHasher digest", N, () => {
    for (let i = 0; i < N; i++) sink += new Bun.CryptoHasher("sha256", keyBytes).update(msgs[i]!).digest()[0]!;
  }, "msg", "sign only, no compare");
  bunVerify = measure("HMAC verify: Bun.CryptoHasher + timingSafeEqual", N, () => {
    for (let i = 0; i < N; i++) {
      if (timingSafeEqual(new Bun.CryptoHasher("sha256", keyBytes).update(msgs[i]!).digest(), macs[i]!)) sink++;
    }
  }, "msg");
}
const nodeHmac = measure("HMAC: node:crypto createHmac digest", N, () => {
  for (let i = 0; i < N; i++) sink += createHmac("sha256", keyBytes).update(msgs[i]!).digest()[0]!;
}, "msg", "sign only, no compare");

// ---- protocol-shaped: auth blocks signed exactly as the phone signs them ----
// clientType|botName|deviceUUID|macAddress|ipAddress|timestamp|SALT, several devices with UUID
// device ids, 13-digit millisecond timestamps. Everything before the timestamp is constant per
// device session, so WASM verifies from a per-device prefix state (HmacKey.prefixed) over
// "timestamp|SALT" only; the baselines HMAC the whole signed string. All inputs pre-encoded.
const enc = new TextEncoder();
const botSecret = enc.encode("bot-secret-8f3a9c2e71d04b5a9e6c");
const botSalt = "k9Xq2mPz7LwR4tVb";
const botKey = new HmacKey(botSecret);
const DEVICES = 8;
let seed = 0x9e3779b9;
const rand = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296);
const hex4 = () => Math.floor(rand() * 65536).toString(16).padStart(4, "0");
const uuid = () => `${hex4()}${hex4()}-${hex4()}-4${hex4().slice(1)}-a${hex4().slice(1)}-${hex4()}${hex4()}${hex4()}`;
const devices = Array.from({ length: DEVICES }, (_, d) => {
  const prefix = `MessengerBotR|LOA.i|${uuid()}|${d % 2 ? "unknown" : "02:00:00:00:00:00"}|192.168.${d}.${100 + d * 7}|`;
  return { prefix, bytes: enc.encode(prefix), key: botKey.prefixed(enc.encode(prefix)) };
});
const pFull: Uint8Array[] = [];
const pRest: Uint8Array[] = [];
const pMacs: Uint8Array[] = [];
const pItems: VerifyItem[] = [];
const pPlainItems: VerifyItem[] = [];
for (let i = 0; i < N; i++) {
  const dev = devices[i % DEVICES]!;
  const rest = enc.encode(`${1_737_354_645_123 + i * 997}|${botSalt}`);
  const full = enc.encode(dev.prefix + new TextDecoder().decode(rest));
  const mac = new Uint8Array(createHmac("sha256", botSecret).update(full).digest());
  pFull.push(full);
  pRest.push(rest);
  pMacs.push(mac);
  pItems.push({ key: dev.key, message: rest, mac });
  pPlainItems.push({ key: botKey, message: full, mac });
}
const pLens = pFull.map((m) => m.length);
const pGroups: VerifyItem[][] = [];
const pPlainGroups: VerifyItem[][] = [];
for (let i = 0; i < N; i += 16) {
  pGroups.push(pItems.slice(i, i + 16));
  pPlainGroups.push(pPlainItems.slice(i, i + 16));
}
{
  const check = verifyBatch(pItems).every(Boolean) && verifyBatch(pPlainItems).every(Boolean);
  if (!check) throw new Error("protocol-shaped bench: a prefixed MAC did not verify");
}
const pOut: boolean[] = [];
const pBatch16 = measure("auth: WASM verifyBatch, prefix states (16/call)", N, () => {
  for (const g of pGroups) {
    verifyBatch(g, pOut);
    if (pOut[0]) sink++;
  }
}, "msg", "per-device prefix state + 'timestamp|SALT'");
// The gateway's shape: each read's items packed by the caller into one buffer ([MAC][timestamp|SALT]
// per item, as AuthVerifier.check() packs them), verified with one copy into WASM and one call.
const pPacked = pGroups.map((g) => {
  const bytes = new Uint8Array(g.reduce((n, it) => n + 32 + it.message.length, 0));
  let at = 0;
  const items: PackedItem[] = g.map((it) => {
    bytes.set(it.mac, at);
    bytes.set(it.message, at + 32);
    const item = { key: it.key, at, length: it.message.length, macOk: false };
    at += 32 + it.message.length;
    return item;
  });
  return { bytes, items };
});
for (const g of pPacked) {
  verifyPacked(g.bytes, g.items);
  if (!g.items.every((it) => it.macOk)) throw new Error("protocol-shaped bench: a packed MAC did not verify");
}
const pPacked16 = measure("auth: WASM verifyPacked, prefix states (16/call)", N, () => {
  for (const g of pPacked) {
    verifyPacked(g.bytes, g.items);
    if (g.items[0]!.macOk) sink++;
  }
}, "msg", "caller-packed [MAC][timestamp|SALT], as AuthVerifier.verifyPrepared");
const pPlain16 = measure("auth: WASM verifyBatch, whole string (16/call)", N, () => {
  for (const g of pPlainGroups) {
    verifyBatch(g, pOut);
    if (pOut[0]) sink++;
  }
}, "msg", "no prefix state");
const pSingle = measure("auth: WASM PrefixedKey.verify", N, () => {
  for (let i = 0; i < N; i++) if (pItems[i]!.key.verify(pRest[i]!, pMacs[i]!)) sink++;
}, "msg");
let pBun = NaN;
if (typeof Bun !== "undefined") {
  pBun = measure("auth: Bun.CryptoHasher + timingSafeEqual", N, () => {
    for (let i = 0; i < N; i++) {
      if (timingSafeEqual(new Bun.CryptoHasher("sha256", botSecret).update(pFull[i]!).digest(), pMacs[i]!)) sink++;
    }
  }, "msg", "whole signed string");
}
// Like for like with the WASM prefix states: a keyed Bun hasher per device that has already
// absorbed the device's prefix, copied per message (so only "timestamp|SALT" is hashed).
let pBunPrefix = NaN;
if (typeof Bun !== "undefined") {
  const states = devices.map((d) => new Bun.CryptoHasher("sha256", botSecret).update(d.bytes));
  for (let i = 0; i < DEVICES; i++) {
    if (!timingSafeEqual(states[i % DEVICES]!.copy().update(pRest[i]!).digest(), pMacs[i]!)) throw new Error("prefix-state Bun.CryptoHasher does not reproduce the MAC");
  }
  pBunPrefix = measure("auth: Bun.CryptoHasher prefix state, copy() per message", N, () => {
    for (let i = 0; i < N; i++) {
      if (timingSafeEqual(states[i % DEVICES]!.copy().update(pRest[i]!).digest(), pMacs[i]!)) sink++;
    }
  }, "msg", "keyed + prefix absorbed once per device (like for like)");
}
const pNode = measure("auth: node:crypto createHmac + timingSafeEqual", N, () => {
  for (let i = 0; i < N; i++) {
    if (timingSafeEqual(createHmac("sha256", botSecret).update(pFull[i]!).digest(), pMacs[i]!)) sink++;
  }
}, "msg", "whole signed string");
// The whole per-event auth path of the gateway (decode, binding/window/hex checks, prefix
// cache lookup, packing, one batch verify per 16-event read); no replay commit, so it repeats.
const verifier = new AuthVerifier([{ name: "LOA.i", secret: new TextDecoder().decode(botSecret), salt: botSalt }], 86_400_000);
const pBlocks = pFull.map((full, i) => {
  const [clientType, botName, deviceUUID, macAddress, ipAddress, ts] = new TextDecoder().decode(full).split("|");
  return { clientType, botName, deviceUUID, deviceID: deviceUUID, macAddress, ipAddress, timestamp: Number(ts), version: "3.2.1", signature: hex(pMacs[i]!) };
});
const nowMs = 1_737_354_645_123 + (N * 997) / 2;
const pReads: (typeof pBlocks)[] = [];
for (let i = 0; i < N; i += 16) pReads.push(pBlocks.slice(i, i + 16));
const pEndToEnd = measure("auth: AuthVerifier check + verifyPrepared (16/read)", N, () => {
  for (const read of pReads) {
    const prepared = read.map((b) => verifier.check("LOA.i", b.deviceUUID!, b, nowMs));
    verifier.verifyPrepared(prepared);
    if (prepared[15]!.macOk) sink++;
  }
}, "msg", "all checks + prefix cache + MAC");
// The same with one AuthMemo per device (as the gateway keeps one per session): no prefix string, no cache lookup.
const memos = new Map(devices.map((_, d) => [pBlocks[d]!.deviceUUID!, newAuthMemo()]));
const pReadMemos = pReads.map((read) => read.map((b) => memos.get(b.deviceUUID!)!));
const pEndToEndMemo = measure("auth: AuthVerifier check + verifyPrepared (16/read), per-device memo", N, () => {
  for (let r = 0; r < pReads.length; r++) {
    const read = pReads[r]!;
    const ms = pReadMemos[r]!;
    const prepared = read.map((b, i) => verifier.check("LOA.i", b.deviceUUID!, b, nowMs, ms[i]));
    verifier.verifyPrepared(prepared);
    if (prepared[15]!.macOk) sink++;
  }
}, "msg", "as the gateway runs it");

// ---- report ----
const fmt = (ns: number) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} us` : `${ns.toFixed(0)} ns`);
console.log(`runtime: ${runtime}; msgs 100-200 B, 32-byte key; scan buffer 64 KiB, ${LINE}-byte lines`);
console.log(`auth rows: ${DEVICES} devices, signed strings ${Math.min(...pLens)}-${Math.max(...pLens)} B, prefixes ${Math.min(...devices.map((d) => d.bytes.length))}-${Math.max(...devices.map((d) => d.bytes.length))} B`);
console.log("| case | time | per |  |");
console.log("|---|---:|---|---|");
for (const r of rows) {
  const extra = r.unit === "64KiB" ? `${(MB / (r.nsPerOp / 1e9)).toFixed(0)} MB/s` : `${(1e9 / r.nsPerOp / 1e6).toFixed(2)} M/s`;
  console.log(`| ${r.name} | ${fmt(r.nsPerOp)} | ${r.unit} | ${extra}${r.note ? `, ${r.note}` : ""} |`);
}
const ratios = {
  scanSpeedupVsIndexOf: jsScan / wasmScan,
  scanWithCopySpeedupVsIndexOf: jsScan / wasmCopyScan,
  framerPushWholeVsJsReferenceFramer: jsFramer / pushWhole,
  framerPerFreshReadVsJsReferenceFramer: Math.max(0, jsFreshTotal - makeChunk) / Math.max(1, pushFreshTotal - makeChunk),
  batchVsSingleVerify: wasmSingle / wasmBatch,
  batchVsBunCryptoHasher: bunVerify / wasmBatch,
  batchVsNodeCreateHmac: nodeHmac / wasmBatch,
  authPrefixBatch16VsWholeStringBatch16: pPlain16 / pBatch16,
  authPrefixBatch16VsBunCryptoHasher: pBun / pBatch16,
  authPackedBatch16VsBunCryptoHasher: pBun / pPacked16,
  // The fair one: the same prefix caching on both sides.
  authPackedBatch16VsBunPrefixState: pBunPrefix / pPacked16,
  authPrefixBatch16VsNodeCreateHmac: pNode / pBatch16,
};
console.log("ratios (>1 means WASM faster):");
for (const [k, v] of Object.entries(ratios)) console.log(`  ${k}: ${Number.isNaN(v) ? "n/a" : v.toFixed(2) + "x"}`);

const dir = new URL("../results/", import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL(`bench-wasm-${runtime.split(" ")[0]}.json`, dir);
writeFileSync(file, JSON.stringify({ runtime, date: new Date().toISOString(), rows, ratios, extra: { push4k, push1k, wasmSign, wasmBatch16, pSingle, pEndToEnd, pEndToEndMemo }, sink }, null, 2) + "\n");
console.log(`wrote ${file.pathname}`);
