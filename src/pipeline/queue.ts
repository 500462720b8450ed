import type { Scope, ScopedTimer } from "../resources/scope.ts";
import type { RoomSlots } from "./limits.ts";
import type { InboundJob } from "./types.ts";

export type DropReason = "expired" | "queue_full" | "duplicate" | "shutdown" | "unknown_bot";

export interface QueueEntry {
  job: InboundJob;
  room: RoomSlots;
  /** Epoch ms: receivedAt + ttl. */
  expiresAt: number;
  /** Arrival order over all rooms (oldest first). */
  prev: QueueEntry | null;
  next: QueueEntry | null;
}

/**
 * The one bounded inbound queue. Entries live in their room's FIFO (for the
 * scheduler) and in one arrival-ordered list (for expiry). The oldest entry
 * overall is always the head of its room, so both removals are O(1).
 *
 * Full-queue policy (docs/pipeline.md): the OLDEST entry of the room with the
 * MOST queued entries is dropped (reason "queue_full") and the new message is
 * accepted. A flooding room pays for its own flood; quiet rooms keep their
 * messages; what survives is the freshest.
 */
export class InboundQueue {
  #head: QueueEntry | null = null;
  #tail: QueueEntry | null = null;
  #size = 0;
  #timer: ScopedTimer | null = null;
  /** Rooms by queued count, for the full-queue policy in O(1): #byLen[n] lists the rooms with n entries (n >= 1). */
  readonly #byLen: Array<RoomSlots | null> = [null];
  /** The largest n whose list is not empty (0: nothing queued). */
  #maxLen = 0;

  constructor(
    readonly capacity: number,
    readonly ttlMs: number,
    private readonly scope: Scope,
    private readonly onDrop: (e: QueueEntry, reason: DropReason) => void,
  ) {}

  get size(): number {
    return this.#size;
  }

  /** Make room for one more entry: expired ones go first, then the full-queue policy. */
  makeRoom(now: number): void {
    if (this.#size < this.capacity) return;
    this.expire(now);
    while (this.#size >= this.capacity) {
      const victim = this.#byLen[this.#maxLen] ?? null;
      if (victim === null) return;
      const e = victim.queue.shift()!;
      this.#unlink(e);
      this.onDrop(e, "queue_full");
    }
  }

  /** Append (call makeRoom first, then resolve the room). */
  push(job: InboundJob, room: RoomSlots): QueueEntry {
    const e: QueueEntry = { job, room, expiresAt: job.message.receivedAt + this.ttlMs, prev: this.#tail, next: null };
    if (this.#tail === null) this.#head = e;
    else this.#tail.next = e;
    this.#tail = e;
    this.#size++;
    room.queue.push(e);
    this.#recount(room, room.queue.length - 1);
    if (this.#timer === null) this.#arm(Date.now());
    return e;
  }

  /** The room's first unexpired entry, removed; expired ones met on the way are dropped. */
  popLive(room: RoomSlots, now: number): QueueEntry | null {
    let e: QueueEntry | undefined;
    while ((e = room.queue.shift()) !== undefined) {
      this.#unlink(e);
      if (e.expiresAt > now) return e;
      this.onDrop(e, "expired");
    }
    return null;
  }

  /** Drop every entry whose TTL has passed. */
  expire(now: number): void {
    let e: QueueEntry | null;
    while ((e = this.#head) !== null && e.expiresAt <= now) {
      const head = e.room.queue.shift();
      if (head !== e) throw new Error("inbound queue invariant broken: oldest entry is not its room's head");
      this.#unlink(e);
      this.onDrop(e, "expired");
    }
  }

  /** Drop everything (shutdown). */
  drain(reason: DropReason): void {
    while (this.#head !== null) {
      const e = this.#head;
      e.room.queue.shift();
      this.#unlink(e);
      this.onDrop(e, reason);
    }
  }

  /** Called after an entry left its room's FIFO (the caller shifted it). */
  #unlink(e: QueueEntry): void {
    this.#recount(e.room, e.room.queue.length + 1);
    if (e.prev === null) this.#head = e.next;
    else e.prev.next = e.next;
    if (e.next === null) this.#tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = e.next = null;
    if (--this.#size === 0 && this.#timer !== null) {
      this.#timer.stop();
      this.#timer = null;
    }
  }

  /** Moves `room` from the list for `from` entries to the list for its current count. */
  #recount(room: RoomSlots, from: number): void {
    const byLen = this.#byLen;
    if (from > 0) {
      if (room.lenPrev === null) byLen[from] = room.lenNext;
      else room.lenPrev.lenNext = room.lenNext;
      if (room.lenNext !== null) room.lenNext.lenPrev = room.lenPrev;
      room.lenPrev = room.lenNext = null;
    }
    const to = room.queue.length;
    if (to > 0) {
      const head = byLen[to] ?? null; // counts change by one, so the array never has holes
      room.lenNext = head;
      if (head !== null) head.lenPrev = room;
      byLen[to] = room;
      if (to > this.#maxLen) this.#maxLen = to;
    }
    while (this.#maxLen > 0 && (byLen[this.#maxLen] ?? null) === null) this.#maxLen--;
  }

  /** One timer while anything is queued, set for the oldest entry's expiry. */
  #arm(now: number): void {
    const head = this.#head;
    if (head === null) return;
    const delay = Math.max(1, head.expiresAt - now);
    this.#timer = this.scope.timeout(delay, this.#onTimer, "queue-ttl");
  }

  #onTimer = (): void => {
    this.#timer = null;
    const now = Date.now();
    this.expire(now);
    if (this.#timer === null) this.#arm(now);
  };
}
