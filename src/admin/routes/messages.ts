import { Hono } from "hono";
import type { ReplyItem } from "../../bot/types.ts";
import { BotgateError } from "../../errors.ts";
import type { ReplyOrigin } from "../../pipeline/types.ts";
import type { Session } from "../../session/session.ts";
import { LIMITS } from "../../store/validate.ts";
import type { AdminDeps } from "../deps.ts";
import { Check, jsonBody } from "../validate.ts";

/** In UTF-16 code units, the phone script's own measure of chat text (its 65,000 cap). */
export const MAX_TEXT = 65_000;
export const MAX_TEXTS = 20;
const CHANNEL_ID = /^\d{1,20}$/;

interface Push {
  bot: string;
  room: string | null;
  channelId: string | null;
  texts: string[];
  device: string | null;
  mediaWaitTime: number | null;
}

function parsePush(body: Record<string, unknown>): Push {
  const ck = new Check();
  ck.unknownKeys(body, ["bot", "room", "channelId", "text", "texts", "device", "mediaWaitTime"]);
  const bot = ck.key("bot", body.bot, LIMITS.botName);
  const room = body.room === undefined || body.room === null ? null : ck.text("room", body.room, { min: 1, max: 1000 });
  let channelId: string | null = null;
  if (body.channelId !== undefined && body.channelId !== null) {
    if (typeof body.channelId !== "string" || !CHANNEL_ID.test(body.channelId)) ck.fail("channelId", "must be the decimal channel id as a string (64-bit ids do not fit a JSON number)");
    else channelId = body.channelId;
  }
  if (body.room == null && body.channelId == null) ck.fail("room", "give room or channelId");
  let texts: string[] = [];
  if (body.text !== undefined && body.texts !== undefined) ck.fail("text", "give text or texts, not both");
  else if (body.text !== undefined) texts = [ck.text("text", body.text, { min: 1, max: MAX_TEXT, utf16: true })];
  else if (Array.isArray(body.texts)) {
    if (body.texts.length === 0 || body.texts.length > MAX_TEXTS) ck.fail("texts", `must hold 1 to ${MAX_TEXTS} texts`);
    else texts = body.texts.map((t, i) => ck.text(`texts[${i}]`, t, { min: 1, max: MAX_TEXT, utf16: true }));
  } else if (body.texts !== undefined) ck.fail("texts", "must be a list of strings");
  else ck.fail("text", "give text or texts");
  const device = body.device === undefined || body.device === null ? null : ck.key("device", body.device, LIMITS.deviceId);
  const mediaWaitTime = body.mediaWaitTime === undefined || body.mediaWaitTime === null ? null : ck.int("mediaWaitTime", body.mediaWaitTime, 0, 0, 600_000);
  ck.done();
  return { bot, room, channelId, texts, device, mediaWaitTime };
}

/**
 * POST /api/messages: push text into a room through a connected, approved
 * device. The first text is queued at once; further texts follow
 * `pipeline.replyGapMs` apart (the legacy server's spacing for lists), sent by
 * the pipeline like a list reply (so the shutdown drain waits for them); those
 * still waiting when the target session ends are dropped, never rerouted.
 */
export function messageRoutes(deps: AdminDeps): Hono {
  const g = deps.gateway;
  const r = new Hono();

  r.post("/", async (c) => {
    const p = parsePush(await jsonBody(c));
    if (!g.accepting) throw new BotgateError("SHUTTING_DOWN", "the gateway is shutting down");
    const pipeline = g.dispatcher;
    if (pipeline === null) throw new BotgateError("INTERNAL", "the gateway has no pipeline");
    if (!g.bots.has(p.bot)) throw new BotgateError("UNKNOWN_BOT", `bot "${p.bot}" is not configured on this server`);
    const room = p.room ?? g.rooms.roomOf(p.bot, p.channelId!);
    if (room === null) {
      throw new BotgateError("NOT_FOUND", `no room name known for channel ${p.channelId} of bot "${p.bot}" (the phone routes by room name and none was seen since start); give room`);
    }
    const s = pickSession(deps, p);
    const origin: ReplyOrigin = { botName: p.bot, deviceId: s.deviceId, room, channelId: p.channelId, key: s.key };
    const items: ReplyItem[] = p.texts.map((text) => (p.mediaWaitTime === null ? text : { text, mediaWaitTime: p.mediaWaitTime }));
    // Over once the session stops being open: a later text never reaches another connection.
    const owner = { get timedOut() { return !s.isOpen; } };
    if (!pipeline.push(origin, items, owner)) throw new BotgateError("NO_DEVICE", `device "${s.deviceId}" of bot "${p.bot}" could not take the message (its connection is closing, or the message is larger than outboundCapBytes)`);
    deps.log.info("message pushed", { bot: p.bot, device: s.deviceId, session: s.id, room, channelId: p.channelId, count: items.length });
    return c.json({ accepted: items.length, bot: p.bot, device: s.deviceId, sessionId: s.id, room, channelId: p.channelId, gapMs: g.config.pipeline.replyGapMs }, 202);
  });

  return r;
}

function pickSession(deps: AdminDeps, p: Push): Session {
  const g = deps.gateway;
  if (p.device === null) {
    const s = g.approvedSessionOf(p.bot);
    if (s === null) throw new BotgateError("NO_DEVICE", `bot "${p.bot}" has no connected, approved device`);
    return s;
  }
  const s = g.getSession(p.bot, p.device);
  if (s === undefined || !s.isOpen) throw new BotgateError("NO_DEVICE", `device "${p.device}" of bot "${p.bot}" is not connected`);
  if (s.status !== "approved") throw new BotgateError("NO_DEVICE", `device "${p.device}" of bot "${p.bot}" is ${s.status}; approve it first`);
  return s;
}
