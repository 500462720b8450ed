/**
 * channelId -> room name, per bot, learned from incoming chat messages. The
 * phone routes `messageResponse` by ROOM NAME, so a push addressed by
 * channelId needs it. Bounded: the least recently seen entries go first.
 */
export class RoomDirectory {
  readonly #rooms = new Map<string, string>();
  constructor(readonly capacity = 10_000) {}

  note(botName: string, channelId: string | null, room: string): void {
    if (channelId === null || channelId === "" || room === "") return;
    const k = `${botName}\u0000${channelId}`;
    this.#rooms.delete(k);
    this.#rooms.set(k, room);
    if (this.#rooms.size > this.capacity) this.#rooms.delete(this.#rooms.keys().next().value!);
  }

  roomOf(botName: string, channelId: string): string | null {
    return this.#rooms.get(`${botName}\u0000${channelId}`) ?? null;
  }

  get size(): number {
    return this.#rooms.size;
  }
}
