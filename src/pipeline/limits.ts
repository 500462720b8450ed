import type { QueueEntry } from "./queue.ts";
import { Ring } from "./ring.ts";

/** A bot's concurrency slots and the rooms of it that could start a job now. */
export class BotSlots {
  inFlight = 0;
  /** Listed in the scheduler's ready ring. */
  ready = false;
  /** Rooms with queued entries and a free room slot (may hold stale rooms; skipped lazily). */
  readonly readyRooms = new Ring<RoomSlots>();
  constructor(
    readonly name: string,
    readonly limit: number,
  ) {}
}

/** A room's FIFO of queued entries and its concurrency slots. */
export class RoomSlots {
  inFlight = 0;
  ready = false;
  readonly queue = new Ring<QueueEntry>();
  /** Links in the inbound queue's list of rooms with the same queued count (queue.ts). */
  lenPrev: RoomSlots | null = null;
  lenNext: RoomSlots | null = null;
  constructor(
    readonly key: string,
    /** Shown in stats: "bot/room" (plus the channel id when known). */
    readonly label: string,
    readonly bot: BotSlots,
    readonly limit: number,
  ) {}
}

const MIN_SWEEP_AT = 10_000;

/** Room identity: the channel id when the phone sent one, else the room name. */
export function roomKey(bot: string, room: string, channelId: string | null): string {
  return channelId === null ? `${bot}\u0000r\u0000${room}` : `${bot}\u0000c\u0000${channelId}`;
}

/**
 * Fair choice of the next job: round-robin over bots with a free bot slot, and
 * within a bot over rooms with a free room slot. Each room is FIFO, so with a
 * room limit of 1 its messages run in arrival order; a busy room only ever
 * gets its turn in the rotation, so it cannot starve the others.
 * Every operation is O(1) amortized; nothing scans the queue.
 */
export class Scheduler {
  readonly #readyBots = new Ring<BotSlots>();
  readonly rooms = new Map<string, RoomSlots>();
  /** Idle rooms are kept (a chatty room is not re-allocated per message) and swept when the map grows past this. */
  #sweepAt = MIN_SWEEP_AT;

  constructor(private readonly roomLimit: number) {}

  room(bot: BotSlots, key: string, room: string, channelId: string | null): RoomSlots {
    let r = this.rooms.get(key);
    if (r === undefined) {
      if (this.rooms.size >= this.#sweepAt) this.#sweepIdle();
      r = new RoomSlots(key, channelId === null ? `${bot.name}/${room}` : `${bot.name}/${room}#${channelId}`, bot, this.roomLimit);
      this.rooms.set(key, r);
    }
    return r;
  }

  /** The room gained an entry or a free slot: list it (and its bot) if it can run now. */
  wake(room: RoomSlots): void {
    if (!room.ready && room.queue.length > 0 && room.inFlight < room.limit) {
      room.ready = true;
      room.bot.readyRooms.push(room);
    }
    this.#wakeBot(room.bot);
  }

  #wakeBot(bot: BotSlots): void {
    if (!bot.ready && bot.inFlight < bot.limit && bot.readyRooms.length > 0) {
      bot.ready = true;
      this.#readyBots.push(bot);
    }
  }

  /**
   * The room that should run next, with its slots taken; null when nothing can
   * start. `live` pops the room's first unexpired entry (dropping expired ones)
   * and returns null if none is left.
   */
  take(live: (room: RoomSlots) => QueueEntry | null): QueueEntry | null {
    const bots = this.#readyBots;
    while (bots.length > 0) {
      const bot = bots.peek()!;
      if (bot.inFlight >= bot.limit || bot.readyRooms.length === 0) {
        bots.shift();
        bot.ready = false;
        continue;
      }
      const room = bot.readyRooms.shift()!;
      room.ready = false;
      if (room.inFlight >= room.limit || this.rooms.get(room.key) !== room) continue;
      const entry = live(room);
      if (entry === null) continue;
      room.inFlight++;
      bot.inFlight++;
      // Round robin: the room goes to the back of its bot's ring, the bot to the back of the bots.
      if (room.queue.length > 0 && room.inFlight < room.limit) {
        room.ready = true;
        bot.readyRooms.push(room);
      }
      bots.shift();
      bot.ready = false;
      this.#wakeBot(bot);
      return entry;
    }
    return null;
  }

  /** A job of this room left its slots (finished, failed or timed out). */
  release(room: RoomSlots): void {
    room.inFlight--;
    room.bot.inFlight--;
    this.wake(room);
  }

  /** Drop rooms with nothing queued or running; amortized O(1) per room created. */
  #sweepIdle(): void {
    for (const [k, r] of this.rooms) if (r.inFlight === 0 && r.queue.length === 0) this.rooms.delete(k);
    this.#sweepAt = Math.max(MIN_SWEEP_AT, this.rooms.size * 2);
  }

  clear(): void {
    this.#readyBots.clear();
    this.rooms.clear();
    this.#sweepAt = MIN_SWEEP_AT;
  }
}
