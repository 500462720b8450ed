/** Typed frames of the MessengerBot R bridge protocol v3.2.x (see docs/protocol.md). */
import type { ChatMessage } from "../bot/types.ts";

export interface HandshakeFrame {
  kind: "handshake";
  clientType: string;
  botName: string;
  version: string;
  deviceId: string;
  deviceInfo: string | null;
}

/** The `auth` block carried by every phone event. */
export interface AuthBlock {
  clientType: string;
  botName: string;
  deviceUUID: string;
  deviceID: string;
  macAddress: string;
  ipAddress: string;
  timestamp: number;
  signature: string;
}

/**
 * An analyze event's `data`, already in the shape bot handlers get
 * (ChatMessage): the gateway fills in `bot` and `receivedAt` and hands the
 * same object on, so a chat message is one object, not two.
 */
export type AnalyzeData = ChatMessage;

export interface AnalyzeFrame {
  kind: "analyze";
  data: AnalyzeData;
  auth: unknown;
}

export interface PingFrame {
  kind: "ping";
  serverTimestamp: number | null;
  monitoring: Record<string, unknown> | null;
  auth: unknown;
}

export interface UnknownEventFrame {
  kind: "unknown";
  event: string;
}

export type EventFrame = AnalyzeFrame | PingFrame | UnknownEventFrame;
