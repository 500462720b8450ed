import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
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
