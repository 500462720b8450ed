import { afterEach, describe, expect, test } from "bun:test";
import { freshTimestamp, LegacyPhone, signAuth } from "../support/phone.ts";
import { identity, startTestGateway, type TestGateway, connected } from "../support/harness.ts";

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

/** Records the size of every batch the gateway receives (the events of one read). */
function spyBatches(g: TestGateway): number[] {
  const sizes: number[] = [];
  const gateway = g.app.gateway;
  const orig = gateway.onEvents.bind(gateway);
  gateway.onEvents = (s, items) => {
    sizes.push(items.length);
    orig(s, items);
  };
  return sizes;
}

describe("auth blocks of one read are verified together", () => {
  test("bad signature, in-chunk replay and stale block in one chunk: right replies, right errors, in order", async () => {
    gw = await startTestGateway();
    const sizes = spyBatches(gw);
    const phone = await connected(gw.port, "dev-batch");
    const first = signAuth(phone.id, freshTimestamp());
    const forged = signAuth(phone.id, freshTimestamp());
    forged.signature = (forged.signature as string).replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const stale = signAuth(phone.id, Date.now() - 5 * 60_000 - 5_000);
    phone.write(
      phone.analyzeLine({ text: "!echo one" }, first) +
        phone.analyzeLine({ text: "!echo two" }, forged) +
        phone.analyzeLine({ text: "!echo three" }) +
        phone.analyzeLine({ text: "!echo four" }, first) + // replay of the first line's block
        "{not json\n" +
        phone.analyzeLine({ text: "!echo five" }, stale) +
        phone.analyzeLine({ text: "!echo six" }),
    );
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) texts.push((await phone.next((f) => f.event === "messageResponse")).data.text);
    expect(texts.sort()).toEqual(["one", "six", "three"]);
    const errors: string[] = [];
    for (let i = 0; i < 4; i++) errors.push((await phone.next((f) => f.event === "error")).data.message);
    expect(errors).toEqual(["auth.signature does not verify", "auth block was already used", expect.any(String), "auth.timestamp outside the accepted window"]);
    const m = gw.app.gateway.metrics.authFailures;
    expect([m.get("AUTH_BAD_SIGNATURE"), m.get("AUTH_REPLAY"), m.get("AUTH_STALE")]).toEqual([1, 1, 1]);
    expect(gw.app.gateway.getSession(phone.id.botName, "dev-batch")!.authFailures).toBe(2);
    expect(sizes.some((n) => n > 1)).toBe(true); // the batch path ran
    expect(phone.isClosed).toBe(false);
    phone.destroy();
  });

  test("reaching maxAuthFailures in the middle of a chunk stops processing of the rest", async () => {
    gw = await startTestGateway({ maxAuthFailures: 2 });
    const phone = await connected(gw.port, "dev-batch-close");
    const wrong = { ...phone.id, secret: "wrong-secret-wrong-secret" };
    phone.write(
      phone.analyzeLine({ text: "!echo a" }, signAuth(wrong, freshTimestamp())) +
        phone.analyzeLine({ text: "!echo b" }, signAuth(wrong, freshTimestamp())) +
        phone.analyzeLine({ text: "!echo c" }),
    );
    await phone.waitClosed();
    expect(phone.frames.filter((f) => f.event === "messageResponse")).toHaveLength(0);
    expect(gw.app.gateway.metrics.authFailures.get("AUTH_BAD_SIGNATURE")).toBe(2);
    expect(gw.app.gateway.metrics.messagesIn.get("analyze")).toBe(2);
  });

  test("a takeover completes on the first validly signed event of a chunk", async () => {
    gw = await startTestGateway();
    const first = await connected(gw.port, "dev-batch-t");
    const second = await connected(gw.port, "dev-batch-t");
    await second.next((f) => f.event === "ping");
    const forged = signAuth({ ...second.id, secret: "guessed-secret-guessed-secret" }, freshTimestamp());
    second.write(second.analyzeLine({ text: "!echo x" }, forged) + second.analyzeLine({ text: "!echo y" }) + second.analyzeLine({ text: "!echo z" }));
    expect((await second.next((f) => f.event === "error")).data.code).toBe("AUTH_FAILED");
    const texts = [(await second.next((f) => f.event === "messageResponse")).data.text, (await second.next((f) => f.event === "messageResponse")).data.text];
    expect(texts.sort()).toEqual(["y", "z"]);
    await first.waitClosed();
    expect(gw.app.gateway.metrics.takeovers.value).toBe(1);
    second.destroy();
  });

  test("lines pipelined behind the handshake are verified as one batch after it", async () => {
    gw = await startTestGateway();
    const sizes = spyBatches(gw);
    const phone = await LegacyPhone.connect(gw.port, identity("dev-batch-pipe"));
    const dup = signAuth(phone.id, freshTimestamp());
    phone.write(phone.handshakeLine() + phone.analyzeLine({ text: "!echo p1" }, dup) + phone.analyzeLine({ text: "!echo p2" }, dup) + phone.analyzeLine({ text: "!echo p3" }));
    expect((await phone.next((f) => f.event === "handshakeComplete")).data.success).toBe(true);
    const texts = [(await phone.next((f) => f.event === "messageResponse")).data.text, (await phone.next((f) => f.event === "messageResponse")).data.text];
    expect(texts.sort()).toEqual(["p1", "p3"]);
    expect((await phone.next((f) => f.event === "error")).data.message).toBe("auth block was already used");
    expect(sizes).toContain(3);
    phone.destroy();
  });

  test("lines queued behind a slow handshake are intact after other phones' reads reused the framer's buffer", async () => {
    gw = await startTestGateway();
    const other = await connected(gw.port, "dev-other");
    const store = gw.app.gateway.store;
    const upsert = store.upsertOnHandshake.bind(store);
    let held!: () => void;
    const reached = Promise.withResolvers<void>();
    store.upsertOnHandshake = async (rec, status) => {
      if (rec.deviceId === "dev-held") {
        reached.resolve();
        await new Promise<void>((r) => (held = r));
      }
      return upsert(rec, status);
    };
    const phone = await LegacyPhone.connect(gw.port, identity("dev-held"));
    phone.write(phone.handshakeLine() + phone.analyzeLine({ text: "!echo 첫째 줄 🎉", room: "방 하나" }) + phone.analyzeLine({ text: "!echo second" }));
    await reached.promise;
    // Other reads go through the framer while dev-held's two lines wait for its handshake.
    other.write(["!echo zzzzzzzzzzzzzzzzzzzzzzzz", "!echo yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"].map((text) => other.analyzeLine({ text })).join(""));
    expect((await other.next((f) => f.event === "messageResponse")).data.text).toBe("zzzzzzzzzzzzzzzzzzzzzzzz");
    expect((await other.next((f) => f.event === "messageResponse")).data.text).toBe("yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
    held();
    expect((await phone.next((f) => f.event === "handshakeComplete")).data.success).toBe(true);
    const first = await phone.next((f) => f.event === "messageResponse");
    expect([first.data.room, first.data.text]).toEqual(["방 하나", "첫째 줄 🎉"]);
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("second");
    expect(gw.app.gateway.metrics.protocolErrors.total()).toBe(0);
    phone.destroy();
    other.destroy();
  });
});
