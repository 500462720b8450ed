/** Text frames for the soak: one device per concurrency slot, auth signed at send time (unique per device). */
import { authBlock, BENCH_BOT, handshakeText as benchHandshakeText, sign } from "./frames.ts";

const lastTs = new Map<string, number>();
let logId = 1;

export function soakDevice(slot: number): string {
  return `soak-${String(slot).padStart(5, "0")}`;
}

export function handshakeText(device: string): string {
  return benchHandshakeText(device, "soak phone");
}

export function analyzeLine(device: string, text = "!echo soak"): string {
  const ts = Math.max(Date.now(), (lastTs.get(device) ?? 0) + 1);
  lastTs.set(device, ts);
  const auth = authBlock(device, ts, sign(device, ts));
  const data = { room: `room-${device}`, text, sender: "soak", isGroupChat: true, channelId: "18294870190341", logId: String(logId++), userHash: "a1b2c3", isMention: false, timestamp: "2025-01-20 15:30:45", botName: BENCH_BOT.name, clientType: "MessengerBotR", auth };
  return JSON.stringify({ event: "analyze", data }) + "\n";
}
