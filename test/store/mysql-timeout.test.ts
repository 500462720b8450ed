// The MySQL store's request deadline (store.requestTimeoutMs), against real local HTTP
// servers that accept a request and never answer it (no MySQL needed).
import { afterEach, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/options.ts";
import { openMysqlStore } from "../../src/store/mysql.ts";
import { openStore } from "../../src/store/open.ts";
import { StoreError } from "../../src/store/types.ts";

type Mode = "answer" | "no-headers" | "no-body";

/** A PlanetScale-HTTP-API look-alike: answers every call with an empty result, until told to stall. */
function fakeEndpoint() {
  const state = { mode: "answer" as Mode, requests: 0 };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch() {
      state.requests++;
      if (state.mode === "no-headers") return new Promise<Response>(() => {});
      if (state.mode === "no-body") {
        // Status and headers go out, then the body never ends.
        const body = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"session":')) });
        return new Response(body, { headers: { "content-type": "application/json" } });
      }
      return Response.json({ session: { id: "s" }, result: {} });
    },
  });
  return { state, server, url: `http://u:p@127.0.0.1:${server.port}` };
}

const servers: { stop(force?: boolean): unknown }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

const HUNG = Symbol("hung");
/** Settles with the promise's outcome, or HUNG if it is still pending after `ms`. */
async function within<T>(ms: number, p: Promise<T>): Promise<{ value?: T; error?: unknown; elapsed: number } | typeof HUNG> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<typeof HUNG>((r) => (timer = setTimeout(() => r(HUNG), ms)));
  const settled = p.then(
    (value) => ({ value, elapsed: performance.now() - t0 }),
    (error) => ({ error, elapsed: performance.now() - t0 }),
  );
  try {
    return await Promise.race([settled, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe("MySQL store request deadline", () => {
  test("opening against an endpoint that never answers rejects with StoreError within store.requestTimeoutMs", async () => {
    const ep = fakeEndpoint();
    servers.push(ep.server);
    ep.state.mode = "no-headers";
    // Through the config parser and openStore, as the app does.
    const cfg = parseConfig({ store: { kind: "mysql", url: ep.url, requestTimeoutMs: 300 } });
    expect(cfg.store).toMatchObject({ kind: "mysql", requestTimeoutMs: 300 });
    const r = await within(3000, openStore(cfg.store));
    expect(r).not.toBe(HUNG);
    if (r === HUNG) return;
    expect(r.error).toBeInstanceOf(StoreError);
    expect((r.error as StoreError).invalidInput).toBe(false);
    expect((r.error as Error).message).toMatch(/within 300 ms/);
    expect(r.elapsed).toBeGreaterThanOrEqual(250);
    expect(r.elapsed).toBeLessThan(2000);
    expect(ep.state.requests).toBe(1);
  });

  for (const mode of ["no-headers", "no-body"] as const) {
    test(`an operation on an open store rejects with StoreError when the endpoint stalls (${mode})`, async () => {
      const ep = fakeEndpoint();
      servers.push(ep.server);
      const store = await openMysqlStore({ url: ep.url, requestTimeoutMs: 300 });
      await store.healthCheck(); // answers while the endpoint does
      ep.state.mode = mode;
      const ops: (() => Promise<unknown>)[] = [() => store.healthCheck(), () => store.get("Bot", "dev-1"), () => store.recordPings([{ botName: "Bot", deviceId: "dev-1", rttMs: 1, monitoring: null, at: new Date().toISOString() }])];
      for (const op of ops) {
        const r = await within(3000, op());
        expect(r).not.toBe(HUNG);
        if (r === HUNG) return;
        expect(r.error).toBeInstanceOf(StoreError);
        expect((r.error as Error).message).toMatch(/no answer from the MySQL endpoint within 300 ms/);
        expect(r.elapsed).toBeLessThan(2000);
      }
      // The endpoint recovers: the next request goes through.
      ep.state.mode = "answer";
      await store.healthCheck();
      await store.close();
    });
  }

  test("requestTimeoutMs is validated by the store and by the config parser; the config default is 10 s", async () => {
    await expect(openMysqlStore({ url: "http://u:p@127.0.0.1:9", requestTimeoutMs: 0 })).rejects.toMatchObject({ name: "StoreError", invalidInput: true });
    const cfg = parseConfig({ store: { kind: "mysql", url: "http://u:p@127.0.0.1:9" } });
    expect(cfg.store).toEqual({ kind: "mysql", url: "http://u:p@127.0.0.1:9", pingRetention: 1000, requestTimeoutMs: 10_000 });
  });
});
