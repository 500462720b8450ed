import process from "node:process";
import type { MemorySnapshot } from "./deps.ts";

/** node:process is available in Bun, Deno and Node alike. */
export function processMemory(): MemorySnapshot {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal };
}
