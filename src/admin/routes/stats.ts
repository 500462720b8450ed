import { Hono } from "hono";
import { RESOURCE_KINDS } from "../../resources/tracker.ts";
import type { AdminDeps } from "../deps.ts";
import { processMemory } from "../process.ts";
import { Check } from "../validate.ts";

/** Snapshots for operators: /api/stats (pool, queue, tracker) and /api/resources (live resources). */
export function statsRoutes(deps: AdminDeps): Hono {
  const g = deps.gateway;
  const r = new Hono();

  r.get("/stats", (c) => {
    const now = Date.now();
    return c.json({
      uptimeSeconds: Math.round((now - (deps.startedAt ?? now)) / 1000),
      accepting: g.accepting,
      connections: { open: g.connections.size, sessions: g.sessions.size },
      pipeline: g.dispatcher?.stats() ?? null,
      tracker: {
        live: g.tracker.size,
        counts: g.tracker.counts(),
        leaksReleased: g.tracker.leaksReleased,
        leaksByKind: deps.sweeper ? Object.fromEntries(deps.sweeper.leaks.values) : {},
        sweeps: deps.sweeper?.sweeps ?? 0,
      },
      eventLoopLagMs: deps.loopLag ? { last: deps.loopLag.lastMs, max: deps.loopLag.maxMs } : null,
      memory: (deps.memory ?? processMemory)(),
    });
  });

  r.get("/resources", (c) => {
    const ck = new Check();
    const kind = c.req.query("kind");
    if (kind !== undefined && !(RESOURCE_KINDS as readonly string[]).includes(kind)) ck.fail("kind", `must be one of ${RESOURCE_KINDS.join(", ")}`);
    const owner = c.req.query("owner");
    const limit = ck.int("limit", c.req.query("limit"), 1000, 1, 100_000, true);
    ck.done("invalid query");
    const now = Date.now();
    const items = g.tracker
      .list(Number.MAX_SAFE_INTEGER)
      .filter((e) => (kind === undefined || e.kind === kind) && (owner === undefined || e.owner === owner))
      .slice(0, limit)
      .map((e) => ({ ...e, createdAt: new Date(e.createdAt).toISOString(), ageMs: now - e.createdAt }));
    return c.json({ items, total: g.tracker.size, counts: g.tracker.counts() });
  });

  return r;
}
