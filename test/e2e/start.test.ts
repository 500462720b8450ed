import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LegacyPhone } from "../support/phone.ts";
import { readUntil } from "../support/process.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
let proc: ReturnType<typeof Bun.spawn> | null = null;
afterEach(() => {
  proc?.kill("SIGKILL");
  proc = null;
});

describe("bun start", () => {
  test("--help prints usage and exits 0", async () => {
    const p = Bun.spawn(["bun", MAIN, "--help"], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    expect(await p.exited).toBe(0);
    expect(out).toContain("Usage: bun start");
    expect(out).toContain("BOTGATE_PORT");
  });

  test("an invalid config file is refused with a clear error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "botgate-bad-"));
    await Bun.write(join(dir, "c.json"), JSON.stringify({ listen: { port: "x" }, bots: [{ name: "b", secret: "s", salt: "t" }] }));
    const p = Bun.spawn(["bun", MAIN, "--config", "c.json"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const err = await new Response(p.stderr).text();
    expect(await p.exited).toBe(1);
    expect(err).toContain("listen.port: must be an integer");
    expect(err).toContain("bots[0].secret: must be at least 16 characters");
  });

  test("--config=PATH is read; an unknown option or a named config that does not exist is refused (exit 2), nothing is created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "botgate-args-"));
    await Bun.write(join(dir, "c.json"), JSON.stringify({ listen: { port: "x" }, bots: [{ name: "b", secret: "s", salt: "t" }] }));
    const run = async (args: string[], env: Record<string, string> = {}) => {
      const p = Bun.spawn(["bun", MAIN, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, BOTGATE_CONFIG: "", ...env } });
      const err = await new Response(p.stderr).text();
      return { code: await p.exited, err };
    };
    const eq = await run(["--config=c.json"]);
    expect(eq.code).toBe(1);
    expect(eq.err).toContain("listen.port: must be an integer"); // it read c.json
    const unknown = await run(["--confg", "c.json"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("--confg");
    const missing = await run(["--config=etc/prod.jsn"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("config file etc/prod.jsn does not exist");
    const missingEnv = await run([], { BOTGATE_CONFIG: "prod.json" });
    expect(missingEnv.code).toBe(2);
    expect(readdirSync(dir)).toEqual(["c.json"]); // no starter config appeared anywhere
  });

  test("a failure while starting (a handler module that rejects as it loads) still ends the start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "botgate-startfail-"));
    const handler = join(dir, "bad-bot.ts");
    await Bun.write(handler, `Promise.reject(new Error("broken at import"));\nexport default () => "x";\n`);
    const bot = { name: "BadBot", secret: "0123456789abcdef0123", salt: "s", handler };
    await Bun.write(join(dir, "c.json"), JSON.stringify({ listen: { host: "127.0.0.1", port: 0 }, admin: { enabled: false }, store: { kind: "sqlite", path: ":memory:" }, bots: [bot] }));
    const p = Bun.spawn(["bun", MAIN, "--config", "c.json"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const [out, err] = [await new Response(p.stdout).text(), await new Response(p.stderr).text()];
    expect(await p.exited).toBe(1);
    expect(err).toContain("failed to start: Error: broken at import");
    expect(out).toContain('"msg":"stopped"'); // what had started was stopped again
  });

  test("a first start that fails validation (a bad environment override) writes no config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "botgate-first-bad-"));
    const p = Bun.spawn(["bun", MAIN], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, BOTGATE_CONFIG: "", BOTGATE_LOG_LEVEL: "verbose" } });
    const err = await new Response(p.stderr).text();
    expect(await p.exited).toBe(1);
    expect(err).toContain("log.level");
    expect(readdirSync(dir)).toEqual([]); // the next start is still a first start, and prints the phone settings
  });

  test("a bot handler's stray failures (an unawaited rejection, a throwing timer) are logged; the gateway keeps serving", async () => {
    const dir = mkdtempSync(join(tmpdir(), "botgate-stray-"));
    const handler = join(dir, "stray-bot.ts");
    await Bun.write(
      handler,
      `export default (m) => {
  if (m.text === "!reject") { Promise.reject(new Error("unawaited 💥")); return "rejected later"; }
  if (m.text === "!timer") { setTimeout(() => { throw new Error("timer bug 🐛"); }, 0); return "timer set"; }
  return "echo:" + m.text;
};
`,
    );
    const bot = { name: "StrayBot", secret: "0123456789abcdef0123", salt: "소금", autoApprove: true, handler };
    await Bun.write(join(dir, "c.json"), JSON.stringify({ listen: { host: "127.0.0.1", port: 0 }, admin: { enabled: false }, store: { kind: "sqlite", path: ":memory:" }, bots: [bot] }));
    proc = Bun.spawn(["bun", MAIN, "--config", "c.json"], { cwd: dir, stdout: "pipe", stderr: "inherit" });
    const stdout = proc.stdout as ReadableStream<Uint8Array>;
    const started = await readUntil(stdout, (t) => /"msg":"listening".*\n/.test(t));
    const port = JSON.parse(started.split("\n").find((l) => l.includes('"listening"'))!).port;
    const phone = await LegacyPhone.connect(port, { botName: bot.name, deviceId: "stray-phone", secret: bot.secret, salt: bot.salt });
    await phone.handshake();
    const reply = (f: { event?: string }) => f.event === "messageResponse";
    phone.write(phone.analyzeLine({ text: "!reject" }));
    expect((await phone.next(reply)).data.text).toBe("rejected later");
    phone.write(phone.analyzeLine({ text: "!timer" }));
    expect((await phone.next(reply)).data.text).toBe("timer set");
    const logged = await readUntil(stdout, (t) => t.includes("unhandled promise rejection") && t.includes("uncaught exception"));
    expect(logged).toContain("unawaited 💥");
    expect(logged).toContain("timer bug 🐛");
    phone.write(phone.analyzeLine({ text: "아직 살아있니?" }));
    expect((await phone.next(reply)).data.text).toBe("echo:아직 살아있니?");
    expect(proc.exitCode).toBeNull();
    phone.destroy();
  });

  test("a MySQL URL that cannot be parsed is refused without printing its password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "botgate-url-"));
    await Bun.write(join(dir, "c.json"), JSON.stringify({ listen: { port: 0 }, admin: { enabled: false }, bots: [{ name: "b", secret: "0123456789abcdef0123", salt: "t" }] }));
    // an unescaped "/" in a generated password makes the URL unparsable
    const p = Bun.spawn(["bun", MAIN, "--config", "c.json"], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, BOTGATE_MYSQL_URL: "https://user:pa/ss-w0rd@db.example" } });
    const [out, err] = [await new Response(p.stdout).text(), await new Response(p.stderr).text()];
    expect(await p.exited).toBe(1);
    expect(err).toContain("mysql url is not a valid URL");
    expect(out + err).not.toContain("pa/ss-w0rd");
  });

  test("first start writes a config, prints the phone settings, serves a phone, stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "botgate-first-"));
    proc = Bun.spawn(["bun", MAIN], { cwd: dir, stdout: "pipe", stderr: "inherit", env: { ...process.env, BOTGATE_PORT: "0", BOTGATE_ADMIN_PORT: "0", BOTGATE_CONFIG: "" } });
    const out = await readUntil(proc.stdout as ReadableStream<Uint8Array>, (t) => /"msg":"listening".*\n/.test(t));
    const cfgPath = join(dir, "botgate.config.json");
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    expect(statSync(cfgPath).mode & 0o777).toBe(0o600);
    const bot = cfg.bots[0];
    expect(bot.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(out).toContain(`SECRET_KEY = "${bot.secret}"`);
    expect(out).toContain(`SALT       = "${bot.salt}"`);
    expect(out).toContain(`BOT_NAME   = "${bot.name}"`);
    // the secret appears in the one-time banner only, never in a log line
    const logLines = out.split("\n").filter((l) => l.startsWith("{"));
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).not.toContain(bot.secret);
    const port = JSON.parse(logLines.find((l) => l.includes('"listening"'))!).port;
    const phone = await LegacyPhone.connect(port, { botName: bot.name, deviceId: "first-run-phone", secret: bot.secret, salt: bot.salt });
    expect((await phone.handshake()).data.approved).toBe(true);
    phone.write(phone.analyzeLine({ text: "!ping" }));
    expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    await phone.waitClosed();
    proc = null;
  });
});
