/**
 * Server -> phone lines, byte-exact with the deployed protocol. Each returns
 * the JSON text of one line WITHOUT its LF: the session's write queue encodes
 * it and adds the LF when it flushes (no byte array per line).
 */

export const SERVER_VERSION = "1.0.0";

export function handshakeComplete(success: boolean, approved: boolean, message: string): string {
  return JSON.stringify({ event: "handshakeComplete", data: { success, approved, message, server_version: SERVER_VERSION } });
}

export function ping(botName: string, serverTimestamp: number): string {
  return JSON.stringify({ event: "ping", data: { bot_name: botName, server_timestamp: serverTimestamp } });
}

export interface OutboundMessage {
  room: string;
  text: string;
  channelId: string | null;
  mediaWaitTime?: number;
}

export function messageResponse(m: OutboundMessage): string {
  const data: Record<string, unknown> = { room: m.room, text: m.text, channel_id: m.channelId };
  if (m.mediaWaitTime !== undefined) data.media_wait_time = m.mediaWaitTime;
  return JSON.stringify({ event: "messageResponse", data });
}

export function errorEvent(code: string, message: string, timestamp: number): string {
  return JSON.stringify({ event: "error", data: { code, message, timestamp } });
}
