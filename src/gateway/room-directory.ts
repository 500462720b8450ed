/**
 * channelId -> room name, per bot, learned from incoming chat messages. The
 * phone routes `messageResponse` by ROOM NAME, so a push addressed by
 * channelId needs it. Bounded: the entries noted (or renamed) longest ago go first.
 */
export class RoomDirectory {
  readonly #rooms = new Map<string, string>();
  constructor(readonly capacity = 10_000) {}

  note(botName: string, channelId: string | null, room: string): void {
    if (channelId === null || channelId === "" || room === "") return;
    const k = `${botName}\u0000${channelId}`;
    // Hot path (every chat message): an unchanged entry is left where it is,
    // so eviction is by first sighting, not strictly least recently seen.
    if (this.#rooms.get(k) === room) return;
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
