import { describe, expect, test } from "bun:test";
import { Scope } from "../../src/resources/scope.ts";
import { ResourceTracker } from "../../src/resources/tracker.ts";

describe("Scope", () => {
  test("closing a scope aborts its signal and releases every timer it owns", async () => {
    const tracker = new ResourceTracker();
    const scope = new Scope("owner", tracker);
    let fired = 0;
    scope.timeout(20, () => fired++);
    scope.interval(20, () => fired++);
    let released = false;
    scope.own("socket", "s", { destroy: () => (released = true) });
    expect(tracker.counts()).toMatchObject({ timer: 1, interval: 1, socket: 1 });
    scope.close("done");
    expect(scope.signal.aborted).toBe(true);
    expect(released).toBe(true);
    expect(tracker.size).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toBe(0);
  });

  test("a fired one-shot timer unregisters itself", async () => {
    const tracker = new ResourceTracker();
    const scope = new Scope("owner", tracker);
    const done = new Promise<void>((r) => scope.timeout(5, r));
    await done;
    expect(tracker.size).toBe(0);
    expect(scope.ownedCount).toBe(0);
  });

  test("timers created after close are inert", async () => {
    const tracker = new ResourceTracker();
    const scope = new Scope("owner", tracker);
    scope.close();
    // a throw would be caught and logged by the wheel: count the runs instead
    let runs = 0;
    const t = scope.timeout(1, () => runs++);
    t.refresh();
    expect(tracker.size).toBe(0);
    // barrier: a later timer on the same (shared) wheel; the wheel fires in due order
    await new Promise<void>((r) => new Scope("barrier").timeout(30, r));
    expect(runs).toBe(0);
  });

  test("sweep releases resources whose owner ended without releasing them", () => {
    const tracker = new ResourceTracker();
    let alive = true;
    let released = 0;
    tracker.track("timer", "ghost", "t", () => released++, () => alive);
    expect(tracker.sweep()).toEqual([]);
    alive = false;
    const leaked = tracker.sweep();
    expect(leaked.map((l) => l.owner)).toEqual(["ghost"]);
    expect(released).toBe(1);
    expect(tracker.size).toBe(0);
  });
});
