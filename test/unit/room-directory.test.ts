import { describe, expect, test } from "bun:test";
import { RoomDirectory } from "../../src/gateway/room-directory.ts";

describe("RoomDirectory", () => {
  test("learns channelId -> room per bot; a rename replaces the name", () => {
    const d = new RoomDirectory();
    d.note("LOA.i", "18293", "개발방 🛠");
    d.note("other", "18293", "다른 봇의 방");
    expect(d.roomOf("LOA.i", "18293")).toBe("개발방 🛠");
    expect(d.roomOf("other", "18293")).toBe("다른 봇의 방");
    expect(d.roomOf("LOA.i", "404")).toBeNull();
    expect(d.roomOf("nobody", "18293")).toBeNull();
    d.note("LOA.i", "18293", "새 이름");
    expect(d.roomOf("LOA.i", "18293")).toBe("새 이름");
    expect(d.size).toBe(2);
  });

  test("messages without a channelId or room name teach nothing", () => {
    const d = new RoomDirectory();
    d.note("LOA.i", null, "방");
    d.note("LOA.i", "", "방");
    d.note("LOA.i", "1", "");
    expect(d.size).toBe(0);
    expect(d.roomOf("LOA.i", "")).toBeNull();
  });

  test("bounded per bot: the entry noted or renamed longest ago goes first; other bots keep theirs", () => {
    const d = new RoomDirectory(3);
    d.note("other", "x", "다른 봇");
    for (const c of ["1", "2", "3"]) d.note("LOA.i", c, `방${c}`);
    d.note("LOA.i", "1", "방1"); // unchanged: stays where it was (oldest)
    d.note("LOA.i", "2", "방2 (renamed)"); // renamed: now the newest
    d.note("LOA.i", "4", "방4");
    expect(d.roomOf("LOA.i", "1")).toBeNull();
    expect(d.roomOf("LOA.i", "2")).toBe("방2 (renamed)");
    d.note("LOA.i", "5", "방5");
    expect(d.roomOf("LOA.i", "3")).toBeNull();
    expect(["2", "4", "5"].map((c) => d.roomOf("LOA.i", c))).toEqual(["방2 (renamed)", "방4", "방5"]);
    expect(d.roomOf("other", "x")).toBe("다른 봇");
    expect(d.size).toBe(4);
  });
});
