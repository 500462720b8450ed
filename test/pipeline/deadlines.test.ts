import { describe, expect, test } from "bun:test";
import { DeadlineList, Job, type JobHost } from "../../src/pipeline/job.ts";
import type { RoomSlots } from "../../src/pipeline/limits.ts";
import { Scope } from "../../src/resources/scope.ts";
import { TimerWheel } from "../../src/resources/timer-wheel.ts";
import { inbound, waitUntil } from "./support.ts";

const host: JobHost = { replyFrom: () => false };
const room = {} as RoomSlots;

describe("DeadlineList", () => {
  test("a due callback that throws does not stop the timer: the jobs behind it still come due", async () => {
    const wheel = new TimerWheel();
    const scope = new Scope("t", undefined, wheel);
    const due: string[] = [];
    const list = new DeadlineList(scope, "deadlines", (j) => {
      due.push(j.inbound.message.text);
      if (j.inbound.message.text === "first") throw new Error("bug in the timeout path");
    });
    const now = performance.now();
    list.add(new Job(host, inbound({ text: "first" }), room, 20, now));
    list.add(new Job(host, inbound({ text: "second" }), room, 60, now)); // due later: needs the re-armed timer
    await waitUntil(() => due.length === 2, 3000, "both deadlines");
    expect(due).toEqual(["first", "second"]);
    expect(wheel.live).toBe(0);
    scope.close();
  });
});
