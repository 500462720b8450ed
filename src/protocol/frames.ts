/** Typed frames of the MessengerBot R bridge protocol v3.2.x (see docs/protocol.md). */

export interface HandshakeFrame {
  kind: "handshake";
  clientType: string;
  botName: string;
  version: string;
  deviceId: string;
  deviceIp: string | null;
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
  version: string | null;
  signature: string;
}

export interface AnalyzeData {
  room: string;
  text: string;
  sender: string;
  isGroupChat: boolean;
  channelId: string | null;
  logId: string | null;
  userHash: string | null;
  isMention: boolean;
  timestamp: string | null;
  botName: string | null;
  packageName: string | null;
  threadId: string | null;
}

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
