import { Hono } from "hono";
import { BotgateError } from "../../errors.ts";
import type { DeviceStatus } from "../../store/types.ts";
import { LIMITS, MAX_PAGE } from "../../store/validate.ts";
import type { AdminDeps } from "../deps.ts";
import { botFilter, Check, deviceParams, jsonBody, paging } from "../validate.ts";
import { deviceView } from "../views.ts";

/** Operator verbs -> stored status. `status` may also be given directly. */
export const ACTIONS: Record<string, DeviceStatus> = { approve: "approved", deny: "denied", block: "blocked", revoke: "revoked", reset: "pending" };

/** Registered devices (the store), with their live connection state. */
export function deviceRoutes(deps: AdminDeps): Hono {
  const g = deps.gateway;
  const r = new Hono();
  const notFound = (bot: string, device: string) => new BotgateError("NOT_FOUND", `device "${device}" of bot "${bot}" is not registered`);

  r.get("/", async (c) => {
    const ck = new Check();
    const botName = botFilter(c, ck);
    const st = c.req.query("status");
    const status = st === undefined ? undefined : ck.status("status", st);
    const { limit, offset } = paging(c, ck);
    ck.done("invalid query");
    const page = await g.store.list({ botName, status, limit, offset });
    return c.json({ items: page.items.map((d) => deviceView(g, d)), total: page.total, limit, offset });
  });

  r.get("/:bot/:device", async (c) => {
    const { bot, device } = deviceParams(c);
    const d = await g.store.get(bot, device);
    if (d === null) throw notFound(bot, device);
    return c.json(deviceView(g, d));
  });

  r.patch("/:bot/:device", async (c) => {
    const { bot, device } = deviceParams(c);
    const body = await jsonBody(c);
    const ck = new Check();
    ck.unknownKeys(body, ["action", "status", "description"]);
    let status: DeviceStatus | undefined;
    if (body.action !== undefined && body.status !== undefined) ck.fail("action", "give either action or status, not both");
    else if (body.action !== undefined) {
      status = typeof body.action === "string" && Object.hasOwn(ACTIONS, body.action) ? ACTIONS[body.action] : undefined;
      if (status === undefined) ck.fail("action", `must be one of ${Object.keys(ACTIONS).join(", ")}`);
    } else if (body.status !== undefined) status = ck.status("status", body.status);
    else ck.fail("action", "required (approve, deny, block, revoke or reset)");
    const description = body.description === undefined || body.description === null ? (body.description as null | undefined) : ck.text("description", body.description, { max: LIMITS.description });
    ck.done();
    const d = await g.store.setStatus(bot, device, status!, description);
    if (d === null) throw notFound(bot, device);
    // Takes effect on the live session at once (refused statuses close it).
    g.applyDeviceStatus(bot, device, d.status);
    deps.log.info("device status changed", { bot, device, status: d.status });
    return c.json(deviceView(g, d));
  });

  r.delete("/:bot/:device", async (c) => {
    const { bot, device } = deviceParams(c);
    if (!(await g.store.delete(bot, device))) throw notFound(bot, device);
    // The registration is gone, so is its session: it re-registers on reconnect.
    const kicked = g.kick(bot, device, "device deleted");
    deps.log.info("device deleted", { bot, device, kicked });
    return c.json({ deleted: true, bot, device, kicked });
  });

  r.get("/:bot/:device/pings", async (c) => {
    const { bot, device } = deviceParams(c);
    const ck = new Check();
    const limit = ck.int("limit", c.req.query("limit"), 100, 1, MAX_PAGE, true);
    ck.done("invalid query");
    if ((await g.store.get(bot, device)) === null) throw notFound(bot, device);
    const items = await g.store.listPings(bot, device, limit);
    return c.json({ items, limit, retention: g.config.store.pingRetention });
  });

  return r;
}
