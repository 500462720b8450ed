/**
 * The bot handler API. A handler module (config `bots[].handler`) exports a
 * default function (or `handle`) of type BotHandler.
 */
export interface ChatMessage {
  bot: string;
  room: string;
  text: string;
  sender: string;
  isGroupChat: boolean;
  /** Decimal string of the 64-bit KakaoTalk channel id, or null. */
  channelId: string | null;
  /** Decimal string of the 64-bit message id; a re-sent message keeps it. */
  logId: string | null;
  userHash: string | null;
  isMention: boolean;
  /** The phone's local time as text ("2025-01-20 15:30:45"). */
  timestamp: string | null;
  packageName: string | null;
  threadId: string | null;
  /** Server clock (ms) when the line arrived. */
  receivedAt: number;
}

export interface DeviceInfo {
  botName: string;
  deviceId: string;
  address: string;
  clientVersion: string;
}

/** One outbound item: plain text, or text with a media wait override. */
export type ReplyItem = string | { text: string; mediaWaitTime?: number };

export type HandlerResult = void | undefined | null | ReplyItem | ReplyItem[];

export interface BotContext {
  device: DeviceInfo;
  room: string;
  channelId: string | null;
  /** Fires at the job's deadline or on shutdown; stop work when it does. */
  signal: AbortSignal;
  /** Epoch ms when `signal` fires for the deadline (the job's timeout). */
  deadline: number;
  /**
   * Send now, before returning (e.g. "working on it..."); a list's later items follow
   * `replyGapMs` apart and are dropped if the job times out first. Returns false if the
   * first item could not be routed (or the job is no longer running); throws
   * HANDLER_FAILED for a malformed item.
   */
  reply(items: ReplyItem | ReplyItem[]): boolean;
}

export type BotHandler = (message: ChatMessage, ctx: BotContext) => HandlerResult | Promise<HandlerResult>;

/** A reply of exactly this text means: send nothing. */
export const NO_REPLY = "@no-reply";
