import type { ChatMessage, DeviceInfo, ReplyItem } from "../bot/types.ts";

/** Where a reply goes: the device that sent the message, and its room. */
export interface ReplyOrigin {
  botName: string;
  deviceId: string;
  sessionId: number;
  room: string;
  channelId: string | null;
}

export interface InboundJob {
  message: ChatMessage;
  origin: ReplyOrigin;
  device: DeviceInfo;
}

/** Implemented by the gateway: writes `messageResponse` lines, routed per config. */
export interface Outbound {
  deliver(origin: ReplyOrigin, items: ReplyItem[]): boolean;
}

/** Between sessions and bot logic. */
export interface Dispatcher {
  submit(job: InboundJob): void;
  close(): Promise<void>;
}
