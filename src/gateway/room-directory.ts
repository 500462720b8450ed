/**
 * channelId -> room name, per bot, learned from incoming chat messages. The
 * phone routes `messageResponse` by ROOM NAME, so a push addressed by
 * channelId needs it. Bounded per bot (bots come from the config, so the whole
 * directory is bounded): the entries noted (or renamed) longest ago go first.
 */
export class RoomDirectory {
  /** One map per bot: no `${bot}\0${channel}` key string to build and hash per chat message. */
  readonly #bots = new Map<string, Map<string, string>>();
  #size = 0;
  constructor(readonly capacityPerBot = 10_000) {}

  note(botName: string, channelId: string | null, room: string): void {
    if (channelId === null || channelId === "" || room === "") return;
    let rooms = this.#bots.get(botName);
    if (rooms === undefined) this.#bots.set(botName, (rooms = new Map()));
    // Hot path (every chat message): an unchanged entry is left where it is,
    // so eviction is by first sighting, not strictly least recently seen.
    const known = rooms.get(channelId);
    if (known === room) return;
    if (known !== undefined) rooms.delete(channelId);
    else this.#size++;
    rooms.set(channelId, room);
    if (rooms.size > this.capacityPerBot) {
      rooms.delete(rooms.keys().next().value!);
      this.#size--;
    }
  }

  roomOf(botName: string, channelId: string): string | null {
    return this.#bots.get(botName)?.get(channelId) ?? null;
  }

  get size(): number {
    return this.#size;
  }
}
