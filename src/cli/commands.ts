/** The CLI verbs; each turns parsed args into one admin API call and prints the result. */
import { UsageError, type Parsed } from "./args.ts";
import type { AdminClient } from "./client.ts";
import { ago, table } from "./table.ts";

export interface Io {
  out(line: string): void;
}

type Run = (api: AdminClient, a: Parsed, io: Io, usage: string) => Promise<void>;

/** A verb: its usage line, the options it takes (besides --url, --token, --config, --json), and what it does. */
export interface Command {
  usage: string;
  flags: readonly string[];
  run: Run;
}

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

/** Refuses an option the command does not take, before anything is sent. */
export function checkOptions(cmd: Command, a: Parsed): void {
  for (const f of a.flags.keys()) if (!cmd.flags.includes(f) && !TARGET_FLAGS.includes(f)) throw new UsageError(`--${f} does not apply here; usage: ${cmd.usage}`);
}

const devicesList: Command = {
  usage: "devices list [--bot B] [--status S] [--limit N] [--offset N]",
  flags: ["bot", "status", "limit", "offset"],
  run: async (api, a, io, usage) => {
    noExtra(a, usage);
    const r = await api.request("GET", `/api/devices${query(a, ["bot", "status", "limit", "offset"])}`);
    print(io, a, r, () => {
      const rows = r.items.map((d: any) => [d.botName, d.deviceId, d.status, d.connected ? "yes" : "no", d.clientVersion, d.ipAddress, ago(d.updatedAt), d.description]);
      return `${table(["BOT", "DEVICE", "STATUS", "ONLINE", "VERSION", "IP", "UPDATED", "DESCRIPTION"], rows)}\n${r.items.length} of ${r.total} device(s)`;
    });
  },
};

const devicesSet: Command = {
  usage: `devices ${ACTIONS.join("|")} <bot> <device> [--description TEXT]`,
  flags: ["description"],
  run: async (api, a, io, usage) => {
    const action = a.positionals[1]!;
    const [bot, device] = two(a, 2, usage);
    const body: Record<string, unknown> = { action };
    if (a.flags.has("description")) body.description = a.flags.get("description");
    const r = await api.request("PATCH", `/api/devices/${seg(bot)}/${seg(device)}`, body);
    print(io, a, r, () => `device ${r.deviceId} of ${r.botName} is now ${r.status}${r.connected ? " (live session updated)" : ""}`);
  },
};

const devicesDelete: Command = {
  usage: "devices delete <bot> <device>",
  flags: [],
  run: async (api, a, io, usage) => {
    const [bot, device] = two(a, 2, usage);
    const r = await api.request("DELETE", `/api/devices/${seg(bot)}/${seg(device)}`);
    print(io, a, r, () => `deleted device ${device} of ${bot}${r.kicked ? "; its session was closed" : ""}`);
  },
};

const devicesPings: Command = {
  usage: "devices pings <bot> <device> [--limit N]",
  flags: ["limit"],
  run: async (api, a, io, usage) => {
    const [bot, device] = two(a, 2, usage);
    const r = await api.request("GET", `/api/devices/${seg(bot)}/${seg(device)}/pings${query(a, ["limit"])}`);
    print(io, a, r, () => table(["AT", "RTT_MS", "MEMORY_%", "QUEUE", "ROOMS"], r.items.map((p: any) => [p.at, p.rttMs, p.monitoring?.memory_percent, p.monitoring?.message_queue_size, p.monitoring?.active_rooms])));
  },
};

const sessionsList: Command = {
  usage: "sessions list [--bot B] [--limit N] [--offset N]",
  flags: ["bot", "limit", "offset"],
  run: async (api, a, io, usage) => {
    noExtra(a, usage);
    const r = await api.request("GET", `/api/sessions${query(a, ["bot", "limit", "offset"])}`);
    print(io, a, r, () => {
      const rows = r.items.map((s: any) => [s.bot, s.device, s.status, s.address, ago(s.openedAt), s.lastRttMs, s.bytesIn, s.bytesOut, s.queuedBytes]);
      return `${table(["BOT", "DEVICE", "STATUS", "ADDRESS", "UP", "RTT_MS", "BYTES_IN", "BYTES_OUT", "QUEUED"], rows)}\n${r.items.length} of ${r.total} session(s)`;
    });
  },
};

const sessionsShow: Command = {
  usage: "sessions show <bot> <device>",
  flags: [],
  run: async (api, a, io, usage) => {
    const [bot, device] = two(a, 2, usage);
    const r = await api.request("GET", `/api/sessions/${seg(bot)}/${seg(device)}`);
    print(io, a, r, () => Object.entries(r).map(([k, v]) => `${k.padEnd(15)} ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`).join("\n"));
  },
};

const sessionsKick: Command = {
  usage: "sessions kick <bot> <device> [--reason TEXT]",
  flags: ["reason"],
  run: async (api, a, io, usage) => {
    const [bot, device] = two(a, 2, usage);
    const body = a.flags.has("reason") ? { reason: a.flags.get("reason") } : undefined;
    const r = await api.request("DELETE", `/api/sessions/${seg(bot)}/${seg(device)}`, body);
    print(io, a, r, () => `kicked ${device} of ${bot} (${r.reason})`);
  },
};

const send: Command = {
  usage: "send --bot B (--room R | --channel C) [--device D] <text...>",
  flags: ["bot", "room", "channel", "device"],
  run: async (api, a, io, usage) => {
    const bot = a.flags.get("bot");
    const room = a.flags.get("room");
    const channel = a.flags.get("channel");
    const words = a.positionals.slice(1);
    if (!bot || (!room && !channel) || words.length === 0) throw new UsageError(`usage: ${usage}`);
    const body: Record<string, unknown> = { bot, text: words.join(" ") };
    if (room) body.room = room;
    if (channel) body.channelId = channel;
    if (a.flags.has("device")) body.device = a.flags.get("device");
    const r = await api.request("POST", "/api/messages", body);
    print(io, a, r, () => `sent to "${r.room}" through device ${r.device} of ${r.bot}`);
  },
};

const stats: Command = {
  usage: "stats",
  flags: [],
  run: async (api, a, io, usage) => {
    noExtra(a, usage, 1);
    io.out(JSON.stringify(await api.request("GET", "/api/stats"), null, 2));
  },
};

/** "devices list" -> handler; the first one or two positionals name the command. */
export function findCommand(pos: string[]): Command | null {
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
