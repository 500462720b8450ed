import { afterEach, describe, expect, test } from "bun:test";
import { blocked, seen } from "../pipeline/fixtures/test-bot.ts";
import { type Frame, LegacyPhone } from "../support/phone.ts";
import { BOT, connected, identity, startTestGateway, type TestGateway, until } from "../support/harness.ts";

const TEST_BOT = "test/pipeline/fixtures/test-bot.ts";

let gw: TestGateway | null = null;
afterEach(async () => {
  while (blocked.length > 0) blocked.shift()!(); // a failed test must not hold the next shutdown
  await gw?.stop();
  gw = null;
});

/** A gateway running the test bot (its "!block…" jobs wait until the test releases them), and one phone. */
async function start(raw: Record<string, unknown> = {}): Promise<{ g: TestGateway; phone: LegacyPhone }> {
  seen.length = 0;
  blocked.length = 0;
  const g = (gw = await startTestGateway({ bots: [{ ...BOT, autoApprove: true, handler: TEST_BOT }], ...raw }));
  return { g, phone: await connected(g.port, "dev-shutdown") };
}

const reply = (f: Frame) => f.event === "messageResponse";
const shutdownError = (f: Frame) => f.event === "error" && f.data?.code === "SERVER_SHUTDOWN";

/** Start the shutdown (as SIGTERM does) and note when it has finished. */
function stopping(g: TestGateway): { done: Promise<void>; finished: () => boolean } {
  let finished = false;
  const done = g.stop().then(() => void (finished = true));
  return { done, finished: () => finished };
}

describe("shutdown drains the pipeline before closing the phones", () => {
  test("a reply whose handler is still running when shutdown starts is delivered before the server closes the socket", async () => {
    const { g, phone } = await start();
    phone.write(phone.analyzeLine({ text: "!block 마지막 답장 부탁해요 🙏", room: "우리 단톡방 🎉", channelId: "18294870190341" }));
    await until(() => blocked.length === 1, 3000, "the handler running");
    const stop = stopping(g);
    expect(g.app.gateway.accepting).toBe(false);
    blocked.shift()!();
    await phone.waitClosed(5000);
    await stop.done;
    // in this order: the answer, then the goodbye
    const got = phone.frames.filter((f) => reply(f) || f.event === "error");
    expect(got.map((f) => f.event)).toEqual(["messageResponse", "error"]);
    expect(got[0]!.data).toMatchObject({ room: "우리 단톡방 🎉", text: "echo:!block 마지막 답장 부탁해요 🙏", channel_id: "18294870190341" });
    expect(got[1]!.data.code).toBe("SERVER_SHUTDOWN");
    const s = g.app.gateway.dispatcher!.stats();
    expect(s.replies).toMatchObject({ sent: 1, undeliverable: 0 });
    expect(g.app.gateway.tracker.list()).toEqual([]);
    gw = null;
  });

  test("a message queued (not started) when shutdown starts is answered during the drain", async () => {
    const { g, phone } = await start({ pipeline: { workers: 1 } });
    phone.write(phone.analyzeLine({ text: "!block 먼저 😀" }));
    await until(() => blocked.length === 1, 3000, "the first handler running");
    phone.write(phone.analyzeLine({ text: "줄 서서 기다리는 중 ⏳" }));
    await until(() => g.app.gateway.dispatcher!.stats().queueDepth === 1, 3000, "the second message queued");
    const stop = stopping(g);
    blocked.shift()!();
    expect((await phone.next(reply, 3000)).data.text).toBe("echo:!block 먼저 😀");
    expect((await phone.next(reply, 3000)).data.text).toBe("echo:줄 서서 기다리는 중 ⏳");
    await phone.waitClosed(5000);
    await stop.done;
    expect(seen).toEqual(["!block 먼저 😀", "줄 서서 기다리는 중 ⏳"]);
    expect(g.app.gateway.dispatcher!.stats().dropped.shutdown).toBe(0);
    gw = null;
  });

  test("a message arriving during the drain starts no job; the phone gets SERVER_SHUTDOWN and keeps its session until the drain ends", async () => {
    const { g, phone } = await start();
    phone.write(phone.analyzeLine({ text: "!block 처리 중" }));
    await until(() => blocked.length === 1, 3000, "the handler running");
    const stop = stopping(g);
    phone.write(phone.analyzeLine({ text: "너무 늦은 메시지 😅", room: "늦은 방 🌙" }));
    const err = await phone.next((f) => f.event === "error", 3000);
    expect(err.data.code).toBe("SERVER_SHUTDOWN");
    expect(err.data.message).toContain("not processed");
    expect(phone.isClosed).toBe(false); // the drain is still on: this error is the refusal, not the goodbye
    phone.write(phone.analyzeLine({ text: "하나 더 😅", room: "늦은 방 🌙" }));
    await until(() => g.app.gateway.dispatcher!.stats().dropped.shutdown === 2, 3000, "the second late message refused");
    const s = g.app.gateway.dispatcher!.stats();
    expect(s.dropped.shutdown).toBe(2);
    expect(s.started).toBe(1);
    expect(seen).toEqual(["!block 처리 중"]); // the handler never saw them
    blocked.shift()!();
    expect((await phone.next(reply, 3000)).data.text).toBe("echo:!block 처리 중");
    // Anything sent for the second refusal was written before this reply: the phone was told once, not per message.
    expect(phone.frames.filter((f) => f.event === "error" && String(f.data?.message).includes("not processed"))).toEqual([]);
    await phone.waitClosed(5000);
    await stop.done;
    expect(seen).toEqual(["!block 처리 중"]);
    expect(phone.frames.filter(reply)).toEqual([]);
    gw = null;
  });

  test("a handler that never settles holds shutdown no longer than the drain deadline plus the flush deadline; nothing outlives it", async () => {
    const drainMs = 300;
    const takeoverFlushMs = 200;
    const { g, phone } = await start({ shutdownDrainMs: drainMs, takeoverFlushMs });
    phone.write(phone.analyzeLine({ text: "!hang" }));
    await until(() => g.app.gateway.dispatcher!.stats().inFlight === 1, 3000, "the handler running");
    const t0 = performance.now();
    const stop = stopping(g);
    await phone.next(shutdownError, drainMs + 2000);
    const told = performance.now() - t0;
    expect(told).toBeGreaterThanOrEqual(drainMs - 15); // the drain waited (the timer wheel ticks every 10 ms) ...
    await stop.done;
    const took = performance.now() - t0;
    expect(took).toBeLessThan(drainMs + takeoverFlushMs + 1000 + 500); // ... but not for the hung handler
    await phone.waitClosed(2000);
    expect(g.logs.some((l) => l.includes("drain deadline passed"))).toBe(true);
    expect(g.app.gateway.tracker.list()).toEqual([]); // the aborted job, the drain timer, sessions, sockets: all released
    gw = null;
  });

  test("a connection still before its handshake is closed at once; the draining phone stays", async () => {
    const { g, phone } = await start();
    phone.write(phone.analyzeLine({ text: "!block 핸드셰이크 전" }));
    await until(() => blocked.length === 1, 3000, "the handler running");
    const early = await LegacyPhone.connect(g.port, identity("dev-early"));
    await until(() => g.app.gateway.connections.size === 2, 3000, "the second connection accepted");
    const stop = stopping(g);
    await early.next(shutdownError, 3000);
    await early.waitClosed(3000);
    expect(phone.isClosed).toBe(false);
    expect(stop.finished()).toBe(false);
    blocked.shift()!();
    expect((await phone.next(reply, 3000)).data.text).toBe("echo:!block 핸드셰이크 전");
    await phone.waitClosed(5000);
    await stop.done;
    gw = null;
  });

  test("a second shutdown call while one is draining joins it: one goodbye per phone, both resolve", async () => {
    const { g, phone } = await start();
    phone.write(phone.analyzeLine({ text: "!block 두 번 종료" }));
    await until(() => blocked.length === 1, 3000, "the handler running");
    const first = g.app.gateway.shutdown();
    const second = g.app.gateway.shutdown();
    expect(second).toBe(first);
    blocked.shift()!();
    expect((await phone.next(reply, 3000)).data.text).toBe("echo:!block 두 번 종료");
    await phone.waitClosed(5000);
    await Promise.all([first, second]);
    expect(phone.frames.filter(shutdownError).length).toBe(1);
    await g.stop(); // the app's own stop after it: nothing left to do, resolves
    expect(g.app.gateway.tracker.list()).toEqual([]);
    gw = null;
  });

  test("shutdownDrainMs: 0 keeps the immediate shutdown: the phone is closed while its handler still runs", async () => {
    const { g, phone } = await start({ shutdownDrainMs: 0 });
    phone.write(phone.analyzeLine({ text: "!block 기다리지 않음" }));
    await until(() => blocked.length === 1, 3000, "the handler running");
    const stop = stopping(g);
    await phone.next(shutdownError, 3000);
    await phone.waitClosed(5000);
    await stop.done;
    blocked.shift()!(); // too late: the job was aborted by the pipeline's close
    await new Promise((r) => setTimeout(r, 0));
    expect(phone.frames.filter(reply)).toEqual([]);
    expect(g.app.gateway.dispatcher!.stats().replies).toMatchObject({ sent: 0, undeliverable: 0 });
    expect(g.app.gateway.tracker.list()).toEqual([]);
    gw = null;
  });
});
