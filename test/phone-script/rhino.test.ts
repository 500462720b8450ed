/**
 * The phone bridge script v3.2.1, unmodified, under Rhino with MessengerBot R
 * stand-ins (test/phone-script/stand-ins.js), against a real gateway. This is
 * the "new user" path: paste the script, set BOT_NAME/SECRET_KEY/SALT/servers.
 * Needs the `rhino` command (Debian package `rhino`); without it these tests FAIL.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BOT, startTestGateway, type TestGateway } from "../support/harness.ts";

const RUN = join(import.meta.dir, "run-rhino.sh");
const DEVICE = "ccbd8eee1012327e";
const ROOM = "로아 단톡방";
/** JVM start plus the script's first connect can take a few seconds on a loaded machine. */
const DEADLINE = 25_000;
/** Per-test budget: bun's default (5 s) is shorter than one JVM start plus a 4 s reconnect. */
const TEST_TIMEOUT = 60_000;

function requireRhino(): void {
  if (Bun.which("rhino") === null) {
    throw new Error("`rhino` is not installed: these tests run the phone script under Rhino. Install it with `apt-get update && apt-get install -y rhino` (.ci/run does this).");
  }
}

function unesc(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|n|r|t|\\)/g, (_, c: string) =>
    c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : c === "\\" ? "\\" : String.fromCharCode(parseInt(c.slice(1), 16)),
  );
}

function esc(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
}

/** One Rhino process running stand-ins + bridge; stdout/stderr collected line by line. */
class RhinoPhone {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly proc: ReturnType<typeof Bun.spawn>;
  exited = false;

  constructor(args: string[]) {
    this.proc = Bun.spawn(["bash", RUN, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    this.proc.exited.then(() => (this.exited = true));
    void this.#collect(this.proc.stdout as ReadableStream<Uint8Array>, this.out);
    void this.#collect(this.proc.stderr as ReadableStream<Uint8Array>, this.err);
  }

  async #collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        into.push(buf.slice(0, i).replace(/\r$/, ""));
        buf = buf.slice(i + 1);
      }
    }
    if (buf.length > 0) into.push(buf);
  }

  /** Replies the script handed to bot.send(room, text). */
  get sent(): Array<{ room: string; text: string }> {
    return this.out
      .filter((l) => l.startsWith("SENT\t"))
      .map((l) => {
        const [, room, text] = l.split("\t");
        return { room: unesc(room ?? ""), text: unesc(text ?? "") };
      });
  }

  chat(room: string, sender: string, text: string, channelId = "18294870190341"): void {
    this.#write(["CHAT", room, sender, text, channelId].map(esc).join("\t"));
  }

  legacy(room: string, sender: string, text: string, channelId = ""): void {
    this.#write(["LEGACY", room, sender, text, channelId].map(esc).join("\t"));
  }

  #write(line: string): void {
    const sink = this.proc.stdin as import("bun").FileSink;
    sink.write(line + "\n");
    sink.flush();
  }

  async until(cond: () => boolean, what: string, timeoutMs = DEADLINE): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.exited) throw new Error(`rhino exited (code ${this.proc.exitCode}) while waiting for ${what}\n${this.transcript()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.transcript()}`);
      await Bun.sleep(20);
    }
  }

  /**
   * The bridge's connection attempts, in the order it logged them (stderr
   * `LOG<TAB>I<TAB>[bridge] connect to NAME failed: ...` / `... connected to NAME (HOST:PORT)`).
   */
  get connectLog(): string[] {
    return this.err
      .map((l) => /^LOG\t[A-Z]\t\[bridge\] ((?:connect to .* failed: |connected to ).*)$/.exec(l)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(unesc);
  }

  waitSent(room: string, text: string, timeoutMs = DEADLINE): Promise<void> {
    return this.until(() => this.sent.some((s) => s.room === room && s.text === text), `bot.send(${JSON.stringify(room)}, ${JSON.stringify(text)})`, timeoutMs);
  }

  transcript(): string {
    return `--- stdout ---\n${this.out.slice(-40).join("\n")}\n--- stderr ---\n${this.err.slice(-40).join("\n")}`;
  }

  /** EOF on stdin makes the stand-in driver exit the JVM; force-kill the tree if it does not. */
  async stop(): Promise<void> {
    if (this.exited) return;
    try {
      (this.proc.stdin as import("bun").FileSink).end();
    } catch {}
    const done = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
    if (done) return;
    const children = Bun.spawnSync(["pgrep", "-P", String(this.proc.pid)]).stdout.toString().trim().split(/\s+/).filter(Boolean);
    for (const pid of children) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
    this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

function phoneArgs(port: number, extra: string[] = []): string[] {
  return ["--host", "127.0.0.1", "--port", String(port), "--bot", BOT.name, "--secret", BOT.secret, "--salt", BOT.salt, "--device-id", DEVICE, ...extra];
}

/** A localhost port with nothing listening on it (just released). */
function deadPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

let gw: TestGateway | null = null;
let phone: RhinoPhone | null = null;

afterEach(async () => {
  await phone?.stop();
  phone = null;
  await gw?.stop();
  gw = null;
});

describe("the v3.2.1 phone script, unmodified, under Rhino", () => {
  test("connects, hands shake with its Android ID, and its chats get the example bot's replies", async () => {
    requireRhino();
    gw = await startTestGateway();
    phone = new RhinoPhone(phoneArgs(gw.port));
    await phone.until(() => phone!.out.includes("READY"), "READY from the stand-ins");

    const g = gw;
    await phone.until(() => g.app.gateway.getSession(BOT.name, DEVICE)?.isOpen === true, "an open session for the phone's device");
    const s = g.app.gateway.getSession(BOT.name, DEVICE)!;
    expect(s.clientVersion).toBe("3.2.1");
    expect(s.clientInfo).toBe("samsung SM-G991N (Android 13, API 33)");
    const dev = await g.app.store.get(BOT.name, DEVICE);
    expect(dev).toMatchObject({ status: "approved", clientType: "MessengerBotR", clientVersion: "3.2.1", clientInfo: "samsung SM-G991N (Android 13, API 33)" });

    phone.chat(ROOM, "홍길동", "!ping");
    await phone.waitSent(ROOM, "pong!");
    phone.chat(ROOM, "홍길동", "!echo 안녕하세요 🎉");
    await phone.waitSent(ROOM, "안녕하세요 🎉");
    phone.chat(ROOM, "김영희", "오늘 점심 뭐 먹지? 😋");
    // a second room, and a control character the script must strip before sending
    phone.chat("두번째 방", "홍길동", "!echo 둘\u0007째 👍🏽");
    await phone.waitSent("두번째 방", "둘째 👍🏽");
    // the legacy response() entry point (channel id from imageDB.getLastUid())
    phone.legacy("레거시방", "김철수", "!echo 레거시 ✨", "777");
    await phone.waitSent("레거시방", "레거시 ✨");
    // an empty (after stripping) text is not sent at all; then a barrier in the first room
    phone.chat(ROOM, "홍길동", "\u0001\u0002");
    phone.chat(ROOM, "홍길동", "!echo 끝");
    await phone.waitSent(ROOM, "끝");
    await Bun.sleep(300);

    expect(phone.sent).toEqual([
      { room: ROOM, text: "pong!" },
      { room: ROOM, text: "안녕하세요 🎉" },
      { room: "두번째 방", text: "둘째 👍🏽" },
      { room: "레거시방", text: "레거시 ✨" },
      { room: ROOM, text: "끝" },
    ]);
    // every analyze verified (no auth failures), the empty one never arrived
    expect(g.app.gateway.metrics.authFailures.get("AUTH_BAD_SIGNATURE") ?? 0).toBe(0);
    expect(phone.err.some((l) => l.includes("server error"))).toBe(false);
    expect(g.app.gateway.metrics.messagesIn.get("analyze")).toBe(6);
  }, TEST_TIMEOUT);

  test("answers server pings with monitoring; the pings keep an otherwise idle session alive", async () => {
    requireRhino();
    gw = await startTestGateway({ pingIntervalMs: 300, idleTimeoutMs: 2000 });
    // the live server is listed second but has the better priority
    const servers = [
      { host: "127.0.0.1", port: deadPort(), priority: 2, name: "backup (down)" },
      { host: "127.0.0.1", port: gw.port, priority: 1, name: "botgate" },
    ];
    phone = new RhinoPhone(phoneArgs(gw.port, ["--servers", JSON.stringify(servers)]));
    const g = gw;
    await phone.until(() => g.app.gateway.getSession(BOT.name, DEVICE)?.isOpen === true, "an open session for the phone's device");
    const first = g.app.gateway.getSession(BOT.name, DEVICE)!;
    const connectedLine = `connected to botgate (127.0.0.1:${gw.port})`;
    await phone.until(() => phone!.connectLog.includes(connectedLine), "the phone to log its connect");

    let pings: Awaited<ReturnType<typeof g.app.store.listPings>> = [];
    const deadline = Date.now() + DEADLINE;
    while (pings.length < 3) {
      if (Date.now() > deadline) throw new Error(`fewer than 3 pings stored\n${phone.transcript()}`);
      await Bun.sleep(100);
      pings = await g.app.store.listPings(BOT.name, DEVICE, 10);
    }
    for (const p of pings) {
      expect(p.rttMs).not.toBeNull();
      expect(p.rttMs!).toBeGreaterThanOrEqual(0);
      expect(p.rttMs!).toBeLessThan(5000);
      expect(p.monitoring).toMatchObject({ message_queue_size: 0, active_rooms: 0 });
      expect(typeof p.monitoring!.total_memory).toBe("number");
      expect(typeof p.monitoring!.memory_usage).toBe("number");
      expect(typeof p.monitoring!.memory_percent).toBe("number");
    }
    // > idleTimeoutMs with no chat: only ping replies arrive, and they suffice
    await Bun.sleep(2500);
    expect(g.app.gateway.getSession(BOT.name, DEVICE)).toBe(first);
    expect(first.isOpen).toBe(true);
    expect(g.app.gateway.metrics.authFailures.get("AUTH_REPLAY") ?? 0).toBe(0);
    expect(phone.err.some((l) => l.includes("disconnected"))).toBe(false);
    // the better-priority (live) server was tried first, so the down one listed
    // before it was never tried; and the phone never had to connect again
    expect(phone.connectLog).toEqual([connectedLine]);
  }, TEST_TIMEOUT);

  test("skips a down server with the better priority and connects to the next one", async () => {
    requireRhino();
    gw = await startTestGateway();
    // the down server is listed second but has the better priority: it must be tried first
    const servers = [
      { host: "127.0.0.1", port: gw.port, priority: 2, name: "botgate" },
      { host: "127.0.0.1", port: deadPort(), priority: 1, name: "main (down)" },
    ];
    phone = new RhinoPhone(phoneArgs(gw.port, ["--servers", JSON.stringify(servers)]));
    const g = gw;
    const connectedLine = `connected to botgate (127.0.0.1:${gw.port})`;
    await phone.until(() => phone!.connectLog.includes(connectedLine), "the phone to log its connect to botgate");
    await phone.until(() => g.app.gateway.getSession(BOT.name, DEVICE)?.isOpen === true, "an open session for the phone's device");
    expect(phone.connectLog).toEqual([expect.stringMatching(/^connect to main \(down\) failed: /), connectedLine]);
    expect(g.app.gateway.getSession(BOT.name, DEVICE)!.clientVersion).toBe("3.2.1");
  }, TEST_TIMEOUT);

  test("a chat queued while no server is up is delivered after the 4 s reconnect", async () => {
    requireRhino();
    const port = deadPort();
    phone = new RhinoPhone(phoneArgs(port));
    const p = phone;
    await p.until(() => p.err.some((l) => l.includes("reconnect in 4000 ms")), "the first reconnect to be scheduled (4 s)");
    p.chat(ROOM, "홍길동", "!echo 큐에서 왔어요 📦");
    await Bun.sleep(200);
    gw = await startTestGateway({ listen: { host: "127.0.0.1", port } });
    await p.waitSent(ROOM, "큐에서 왔어요 📦");
    // stderr (the script's log) and stdout (SENT lines) are separate pipes: the log line may arrive second
    await p.until(() => p.err.some((l) => l.includes("flushed 1 queued event(s)")), "the phone's log of the flushed queue");
    expect(p.sent).toEqual([{ room: ROOM, text: "큐에서 왔어요 📦" }]);
  }, TEST_TIMEOUT);
});
