import { Hono } from "hono";
import { BotgateError } from "../../errors.ts";
import type { AdminDeps } from "../deps.ts";
import { botFilter, Check, deviceParams, jsonBody, paging } from "../validate.ts";
import { sessionView } from "../views.ts";

/** Live sessions (past the handshake): list, inspect, kick. */
export function sessionRoutes(deps: AdminDeps): Hono {
  const g = deps.gateway;
  const r = new Hono();

  r.get("/", (c) => {
    const ck = new Check();
    const bot = botFilter(c, ck);
    const { limit, offset } = paging(c, ck);
    ck.done("invalid query");
    const all = [...g.sessions.values()].filter((s) => bot === undefined || s.botName === bot);
    all.sort((a, b) => a.id - b.id);
    return c.json({ items: all.slice(offset, offset + limit).map(sessionView), total: all.length, limit, offset, connections: g.connections.size });
  });

  r.get("/:bot/:device", (c) => {
    const { bot, device } = deviceParams(c);
    const s = g.getSession(bot, device);
    if (s === undefined) throw new BotgateError("NOT_FOUND", `no live session for device "${device}" of bot "${bot}"`);
    return c.json(sessionView(s));
  });

  r.delete("/:bot/:device", async (c) => {
    const { bot, device } = deviceParams(c);
    const body = await jsonBody(c, { optional: true });
    const ck = new Check();
    ck.unknownKeys(body, ["reason"]);
    const raw = body.reason ?? c.req.query("reason");
    const reason = raw === undefined ? "operator request" : ck.text("reason", raw, { min: 1, max: 200 });
    ck.done();
    const s = g.getSession(bot, device);
    if (s === undefined || !g.kick(bot, device, reason)) throw new BotgateError("NOT_FOUND", `no live session for device "${device}" of bot "${bot}"`);
    return c.json({ kicked: true, bot, device, sessionId: s.id, reason });
  });

  return r;
}
