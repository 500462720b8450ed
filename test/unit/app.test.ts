// startApp refuses a config it cannot serve before it opens or starts anything.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, type RuntimeAdapter } from "../../src/app.ts";
import { parseConfig } from "../../src/config/options.ts";
import { silentLogger } from "../../src/log/logger.ts";
import * as bun from "../../src/runtime/bun.ts";

const BOT = { name: "LOA.i", secret: "test-secret-0123456789abcdef", salt: "test-salt-xyz" };

function setup(over: { admin: boolean; handler?: string }) {
  const dir = mkdtempSync(join(tmpdir(), "botgate-app-"));
  const db = join(dir, "devices.sqlite");
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    store: { kind: "sqlite", path: db },
    bots: [{ ...BOT, handler: over.handler ?? null }],
    admin: over.admin ? { enabled: true, host: "127.0.0.1", port: 0 } : { enabled: false },
  });
  let listens = 0;
  // The Bun adapter without serve(), counting listen() calls.
  const runtime: RuntimeAdapter = { listen: (...args: Parameters<typeof bun.listen>) => (listens++, bun.listen(...args)) };
  return { config, runtime, db, listens: () => listens, done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("startApp fails before it starts anything", () => {
  const cases = [
    { name: "admin enabled on an adapter without serve()", admin: true, error: "this runtime adapter has no serve()" },
    { name: "a bot handler that cannot be loaded (CONFIG_INVALID)", admin: false, handler: "/nonexistent/bot-handler.ts", error: "cannot load bot handler /nonexistent/bot-handler.ts" },
  ];
  for (const c of cases) {
    test(`${c.name}: refused, nothing listening, no store opened`, async () => {
      const s = setup(c);
      try {
        await expect(startApp(s.config, s.runtime, silentLogger)).rejects.toThrow(c.error);
        expect(s.listens()).toBe(0);
        expect(existsSync(s.db)).toBe(false);
      } finally {
        s.done();
      }
    });
  }
});

describe("startApp undoes what it started when listening fails", () => {
  test("the port is taken: the error surfaces; the store it opened is closed and the gateway's timers are gone", async () => {
    const { readdirSync, readlinkSync } = await import("node:fs");
    const { wheel } = await import("../../src/resources/timer-wheel.ts");
    const s = setup({ admin: false });
    const openFiles = () => readdirSync("/proc/self/fd").flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [];
      }
    });
    const timersBefore = wheel.live;
    const runtime: RuntimeAdapter = {
      listen: () => {
        throw new Error("Failed to listen at 127.0.0.1:37888 (EADDRINUSE)");
      },
    };
    try {
      await expect(startApp(s.config, runtime, silentLogger)).rejects.toThrow("EADDRINUSE");
      expect(existsSync(s.db)).toBe(true); // it was opened...
      expect(openFiles().filter((f) => f.startsWith(s.db))).toEqual([]); // ...and closed again
      expect(wheel.live).toBe(timersBefore);
    } finally {
      s.done();
    }
  });
});

describe("startApp reports what the store found while opening", () => {
  test("store warnings are logged at start", async () => {
    const { openStore } = await import("../../src/store/open.ts");
    const { createLogger } = await import("../../src/log/logger.ts");
    const s = setup({ admin: false });
    const store = await openStore({ kind: "sqlite", path: ":memory:" });
    Object.defineProperty(store, "warnings", { value: ["keys of kb_bot_devices ignore case"] });
    const lines: string[] = [];
    const app = await startApp(s.config, s.runtime, createLogger("info", (l) => lines.push(l)), { store });
    try {
      expect(lines.some((l) => l.includes('"device store"') && l.includes("keys of kb_bot_devices ignore case"))).toBe(true);
    } finally {
      await app.stop();
      await store.close();
      s.done();
    }
  });
});
