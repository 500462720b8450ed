/** The CLI verbs; each turns parsed args into one admin API call and prints the result. */
import { UsageError, type Parsed } from "./args.ts";
import type { AdminClient } from "./client.ts";
import { ago, table } from "./table.ts";

export interface Io {
  out(line: string): void;
}

type Run = (api: AdminClient, a: Parsed, io: Io) => Promise<void>;

const ACTIONS = ["approve", "deny", "block", "revoke"] as const;

function seg(s: string): string {
  return encodeURIComponent(s);
}

function two(a: Parsed, from: number, usage: string): [string, string] {
  const bot = a.positionals[from];
  const device = a.positionals[from + 1];
  if (!bot || !device || a.positionals.length > from + 2) throw new UsageError(`usage: ${usage}`);
  return [bot, device];
}

function query(a: Parsed, names: string[]): string {
  const q = new URLSearchParams();
  for (const n of names) {
    const v = a.flags.get(n);
    if (v !== undefined) q.set(n, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

function print(io: Io, a: Parsed, json: unknown, human: () => string): void {
  io.out(a.switches.has("json") ? JSON.stringify(json, null, 2) : human());
}

function noExtra(a: Parsed, usage: string, words = 2): void {
  if (a.positionals.length > words) throw new UsageError(`unexpected argument "${a.positionals[words]}"; usage: ${usage}`);
}

/** Where to connect (--url, --token, --config) applies to every command; other options only where listed. */
const TARGET_FLAGS = ["url", "token", "config"];
function only(a: Parsed, names: string[], usage: string): void {
  for (const f of a.flags.keys()) if (!names.includes(f) && !TARGET_FLAGS.includes(f)) throw new UsageError(`--${f} does not apply here; usage: ${usage}`);
}

const devicesList: Run = async (api, a, io) => {
  const usage = "devices list [--bot B] [--status S] [--limit N] [--offset N]";
  noExtra(a, usage);
  only(a, ["bot", "status", "limit", "offset"], usage);
  const r = await api.request("GET", `/api/devices${query(a, ["bot", "status", "limit", "offset"])}`);
  print(io, a, r, () => {
    const rows = r.items.map((d: any) => [d.botName, d.deviceId, d.status, d.connected ? "yes" : "no", d.clientVersion, d.ipAddress, ago(d.updatedAt), d.description]);
    return `${table(["BOT", "DEVICE", "STATUS", "ONLINE", "VERSION", "IP", "UPDATED", "DESCRIPTION"], rows)}\n${r.items.length} of ${r.total} device(s)`;
  });
};

const devicesSet: Run = async (api, a, io) => {
  const action = a.positionals[1]!;
  const usage = `devices ${action} <bot> <device> [--description TEXT]`;
  const [bot, device] = two(a, 2, usage);
  only(a, ["description"], usage);
  const body: Record<string, unknown> = { action };
  if (a.flags.has("description")) body.description = a.flags.get("description");
  const r = await api.request("PATCH", `/api/devices/${seg(bot)}/${seg(device)}`, body);
  print(io, a, r, () => `device ${r.deviceId} of ${r.botName} is now ${r.status}${r.connected ? " (live session updated)" : ""}`);
};

const devicesDelete: Run = async (api, a, io) => {
  const [bot, device] = two(a, 2, "devices delete <bot> <device>");
  only(a, [], "devices delete <bot> <device>");
  const r = await api.request("DELETE", `/api/devices/${seg(bot)}/${seg(device)}`);
  print(io, a, r, () => `deleted device ${device} of ${bot}${r.kicked ? "; its session was closed" : ""}`);
};

const devicesPings: Run = async (api, a, io) => {
  const [bot, device] = two(a, 2, "devices pings <bot> <device> [--limit N]");
  only(a, ["limit"], "devices pings <bot> <device> [--limit N]");
  const r = await api.request("GET", `/api/devices/${seg(bot)}/${seg(device)}/pings${query(a, ["limit"])}`);
  print(io, a, r, () => table(["AT", "RTT_MS", "MEMORY_%", "QUEUE", "ROOMS"], r.items.map((p: any) => [p.at, p.rttMs, p.monitoring?.memory_percent, p.monitoring?.message_queue_size, p.monitoring?.active_rooms])));
};

const sessionsList: Run = async (api, a, io) => {
  const usage = "sessions list [--bot B] [--limit N] [--offset N]";
  noExtra(a, usage);
  only(a, ["bot", "limit", "offset"], usage);
  const r = await api.request("GET", `/api/sessions${query(a, ["bot", "limit", "offset"])}`);
  print(io, a, r, () => {
    const rows = r.items.map((s: any) => [s.bot, s.device, s.status, s.address, ago(s.openedAt), s.lastRttMs, s.bytesIn, s.bytesOut, s.queuedBytes]);
    return `${table(["BOT", "DEVICE", "STATUS", "ADDRESS", "UP", "RTT_MS", "BYTES_IN", "BYTES_OUT", "QUEUED"], rows)}\n${r.items.length} of ${r.total} session(s)`;
  });
};

const sessionsShow: Run = async (api, a, io) => {
  const [bot, device] = two(a, 2, "sessions show <bot> <device>");
  only(a, [], "sessions show <bot> <device>");
  const r = await api.request("GET", `/api/sessions/${seg(bot)}/${seg(device)}`);
  print(io, a, r, () => Object.entries(r).map(([k, v]) => `${k.padEnd(15)} ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`).join("\n"));
};

const sessionsKick: Run = async (api, a, io) => {
  const [bot, device] = two(a, 2, "sessions kick <bot> <device> [--reason TEXT]");
  only(a, ["reason"], "sessions kick <bot> <device> [--reason TEXT]");
  const body = a.flags.has("reason") ? { reason: a.flags.get("reason") } : undefined;
  const r = await api.request("DELETE", `/api/sessions/${seg(bot)}/${seg(device)}`, body);
  print(io, a, r, () => `kicked ${device} of ${bot} (${r.reason})`);
};

const send: Run = async (api, a, io) => {
  const bot = a.flags.get("bot");
  const room = a.flags.get("room");
  const channel = a.flags.get("channel");
  const words = a.positionals.slice(1);
  const usage = "send --bot B (--room R | --channel C) [--device D] <text...>";
  if (!bot || (!room && !channel) || words.length === 0) throw new UsageError(`usage: ${usage}`);
  only(a, ["bot", "room", "channel", "device"], usage);
  const body: Record<string, unknown> = { bot, text: words.join(" ") };
  if (room) body.room = room;
  if (channel) body.channelId = channel;
  if (a.flags.has("device")) body.device = a.flags.get("device");
  const r = await api.request("POST", "/api/messages", body);
  print(io, a, r, () => `sent to "${r.room}" through device ${r.device} of ${r.bot}`);
};

const stats: Run = async (api, a, io) => {
  noExtra(a, "stats", 1);
  only(a, [], "stats");
  io.out(JSON.stringify(await api.request("GET", "/api/stats"), null, 2));
};

/** "devices list" -> handler; the first one or two positionals name the command. */
export function findCommand(pos: string[]): Run | null {
  const [group, verb] = pos;
  if (group === "devices") {
    if (verb === "list") return devicesList;
    if (verb === "delete") return devicesDelete;
    if (verb === "pings") return devicesPings;
    if ((ACTIONS as readonly string[]).includes(verb ?? "")) return devicesSet;
  }
  if (group === "sessions") {
    if (verb === "list") return sessionsList;
    if (verb === "show") return sessionsShow;
    if (verb === "kick") return sessionsKick;
  }
  if (group === "send") return send;
  if (group === "stats") return stats;
  return null;
}
