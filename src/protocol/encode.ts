/** Server -> phone lines, byte-exact with the deployed protocol. */
const enc = new TextEncoder();

function line(obj: unknown): Uint8Array {
  return enc.encode(JSON.stringify(obj) + "\n");
}

export const SERVER_VERSION = "1.0.0";

export function handshakeComplete(success: boolean, approved: boolean, message: string): Uint8Array {
  return line({ event: "handshakeComplete", data: { success, approved, message, server_version: SERVER_VERSION } });
}

export function ping(botName: string, serverTimestamp: number): Uint8Array {
  return line({ event: "ping", data: { bot_name: botName, server_timestamp: serverTimestamp } });
}

export interface OutboundMessage {
  room: string;
  text: string;
  channelId: string | null;
  mediaWaitTime?: number;
}

export function messageResponse(m: OutboundMessage): Uint8Array {
  const data: Record<string, unknown> = { room: m.room, text: m.text, channel_id: m.channelId };
  if (m.mediaWaitTime !== undefined) data.media_wait_time = m.mediaWaitTime;
  return line({ event: "messageResponse", data });
}

export function errorEvent(code: string, message: string, timestamp: number): Uint8Array {
  return line({ event: "error", data: { code, message, timestamp } });
}
