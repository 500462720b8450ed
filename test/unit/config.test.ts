import { describe, expect, test } from "bun:test";
import { applyEnv } from "../../src/config/load.ts";
import { parseConfig } from "../../src/config/options.ts";
import { BotgateError } from "../../src/errors.ts";

const bot = { name: "LOA.i", secret: "0123456789abcdef0123", salt: "salt" };

function errorsOf(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(BotgateError);
    return ((e as BotgateError).fields ?? []).map((f) => `${f.path}: ${f.message}`);
  }
  return [];
}

describe("config", () => {
  test("defaults follow the legacy server", () => {
    const c = parseConfig({ bots: [bot] });
    expect(c.listen).toEqual({ host: "0.0.0.0", port: 37888, tls: null, acceptQueues: 8 });
    expect(c.handshakeTimeoutMs).toBe(10_000);
    expect(c.pingIntervalMs).toBe(30_000);
    expect(c.idleTimeoutMs).toBe(75_000);
    expect(c.authWindowMs).toBe(300_000);
    expect(c.maxLineBytes).toBe(128 * 1024);
    expect(c.outboundCapBytes).toBe(4 * 1024 * 1024);
    expect(c.pipeline.workers).toBe(31);
    expect(c.bots[0]!.autoApprove).toBe(false);
    expect(c.admin.host).toBe("127.0.0.1");
  });

  test("idle timeout defaults to 2.5 ping intervals", () => {
    expect(parseConfig({ pingIntervalMs: 1000 }).idleTimeoutMs).toBe(2500);
  });

  test("every problem is reported with its path", () => {
    const errs = errorsOf({
      listen: { port: 70000 },
      bots: [{ name: "a", secret: "short", salt: "s" }, { ...bot, name: "a" }],
      store: { kind: "postgres" },
      unknownThing: 1,
      pingIntervalMs: 1000,
      idleTimeoutMs: 500,
    });
    expect(errs).toContain("listen.port: must be between 0 and 65535");
    expect(errs).toContain("bots[0].secret: must be at least 16 characters");
    expect(errs).toContain('bots[1].name: duplicate bot name "a"');
    expect(errs).toContain('store.kind: must be "sqlite" or "mysql"');
    expect(errs).toContain("unknownThing: unknown setting");
    expect(errorsOf({ pipeline: { worker: 3 }, admin: { tokn: "x" }, listen: { prot: 1 }, store: { pth: "x" }, log: { lvl: "x" } })).toEqual([
      "listen.prot: unknown setting",
      "store.pth: unknown setting",
      "pipeline.worker: unknown setting",
      "admin.tokn: unknown setting",
      "log.lvl: unknown setting",
    ]);
    expect(errs.some((e) => e.startsWith("idleTimeoutMs:"))).toBe(true);
  });

  test("required settings are required: a bot without secret or salt would accept HMACs made with an empty key", () => {
    expect(errorsOf({ bots: [{ name: "B", autoApprove: true }] })).toEqual(["bots[0].secret: required", "bots[0].salt: required"]);
    expect(errorsOf({ bots: [{ secret: bot.secret, salt: "s" }] })).toEqual(["bots[0].name: required"]);
    expect(errorsOf({ bots: [{ ...bot, webhook: {} }] })).toEqual(["bots[0].webhook.url: required", "bots[0].webhook.secret: required"]);
    expect(errorsOf({ bots: [bot], listen: { tls: {} } })).toEqual(["listen.tls.certFile: required", "listen.tls.keyFile: required"]);
    expect(errorsOf({ bots: [bot], store: { kind: "mysql" } })).toEqual(["store.url: required"]);
  });

  test("loopback means a loopback address, not a host name that starts with 127.", () => {
    expect(errorsOf({ admin: { host: "127.evil.example" } })).toEqual(["admin.token: required when admin.host (127.evil.example) is not a loopback address"]);
    expect(errorsOf({ admin: { host: "127.0.0.2" } })).toEqual([]);
    expect(errorsOf({ admin: { host: "::1" } })).toEqual([]);
  });

  test("an admin token that cannot travel in an HTTP header is refused", () => {
    for (const token of ["관리자토큰관리자토큰관리자토큰관리자", "  spaced-token-0123456789  ", "tab\ttoken-0123456789"]) {
      expect(errorsOf({ admin: { token } })).toEqual(["admin.token: must be printable ASCII without spaces (it is sent in an HTTP header)"]);
    }
    expect(errorsOf({ admin: { token: "Ab0~!@#$%^&*()_+-=[]{}" } })).toEqual([]);
  });

  test("bot names follow the store's rules for names (the admin API must be able to address them)", () => {
    expect(errorsOf({ bots: [{ ...bot, name: ".." }] })).toEqual(['bots[0].name: must not be "." or ".."']);
    expect(errorsOf({ bots: [{ ...bot, name: " LOA.i" }] })).toEqual(["bots[0].name: must not start or end with whitespace"]);
    expect(errorsOf({ bots: [{ ...bot, name: "봇 🤖" }] })).toEqual([]);
  });

  test("a non-loopback admin address without a token is refused", () => {
    expect(errorsOf({ admin: { host: "0.0.0.0" } })).toEqual(["admin.token: required when admin.host (0.0.0.0) is not a loopback address"]);
    expect(errorsOf({ admin: { host: "0.0.0.0", token: "a-long-enough-token-1234" } })).toEqual([]);
  });

  test("shutdownDrainMs: 5 s by default, 0 (no drain) to 10 min, whole milliseconds", () => {
    expect(parseConfig({ bots: [bot] }).shutdownDrainMs).toBe(5000);
    expect(parseConfig({ bots: [bot], shutdownDrainMs: 0 }).shutdownDrainMs).toBe(0);
    expect(parseConfig({ bots: [bot], shutdownDrainMs: 600_000 }).shutdownDrainMs).toBe(600_000);
    expect(errorsOf({ bots: [bot], shutdownDrainMs: -1 })).toEqual(["config.shutdownDrainMs: must be between 0 and 600000"]);
    expect(errorsOf({ bots: [bot], shutdownDrainMs: 600_001 })).toEqual(["config.shutdownDrainMs: must be between 0 and 600000"]);
    for (const bad of ["5000", 2.5, null, true]) expect(errorsOf({ bots: [bot], shutdownDrainMs: bad })).toEqual(["config.shutdownDrainMs: must be an integer"]);
  });

  test("environment overrides apply before validation", () => {
    const c = parseConfig(applyEnv({ bots: [bot] }, { BOTGATE_PORT: "4000", BOTGATE_HOST: "127.0.0.1", BOTGATE_SQLITE_PATH: "/tmp/x.db", BOTGATE_LOG_LEVEL: "warn" }));
    expect(c.listen.port).toBe(4000);
    expect(c.listen.host).toBe("127.0.0.1");
    expect(c.store).toEqual({ kind: "sqlite", path: "/tmp/x.db", pingRetention: 1000 });
    expect(c.log.level).toBe("warn");
    expect(() => applyEnv({}, { BOTGATE_PORT: "abc" })).toThrow(/BOTGATE_PORT/);
  });

  test("an override does not turn a section that is not an object into one (\"admin\": false stays an error, not an enabled admin API)", () => {
    for (const admin of [false, null, "off"]) {
      expect(errorsOf(applyEnv({ bots: [bot], admin }, { BOTGATE_ADMIN_PORT: "48000", BOTGATE_ADMIN_TOKEN: "x".repeat(32) }))).toEqual(["admin: must be an object"]);
    }
    expect(errorsOf(applyEnv({ bots: [bot], log: "debug" }, { BOTGATE_LOG_LEVEL: "warn" }))).toEqual(["log: must be an object"]);
    expect(errorsOf(applyEnv({ bots: [bot], store: "sqlite" }, { BOTGATE_SQLITE_PATH: "/tmp/x.db" }))).toEqual(["store: must be an object"]);
  });

  test("webhook.url must parse as an http(s) URL with a host", () => {
    const hook = (url: string) => errorsOf({ bots: [{ ...bot, webhook: { url, secret: "w".repeat(32) } }] });
    for (const url of ["http://", "https://", "http://exa mple.com/hook", "http://:80/", "ftp://bot.example/hook", "bot.example/hook"]) {
      expect(hook(url)).toEqual(["bots[0].webhook.url: must be an http(s) URL with a host, e.g. https://bot.example/hook"]);
    }
    expect(hook("https://봇.example/훅?a=1")).toEqual([]);
    expect(hook("http://127.0.0.1:8080/hook")).toEqual([]);
  });

  test("BOTGATE_SQLITE_PATH and BOTGATE_MYSQL_URL change the backend and keep the file's other store settings", () => {
    const sqliteFile = { bots: [bot], store: { kind: "sqlite", path: "data/a.db", pingRetention: 50 } };
    expect(parseConfig(applyEnv(sqliteFile, { BOTGATE_SQLITE_PATH: "/tmp/x.db" })).store).toEqual({ kind: "sqlite", path: "/tmp/x.db", pingRetention: 50 });
    const mysqlFile = { bots: [bot], store: { kind: "mysql", url: "https://u:p@db", pingRetention: 70, requestTimeoutMs: 2000 } };
    expect(parseConfig(applyEnv(mysqlFile, { BOTGATE_SQLITE_PATH: "/tmp/x.db" })).store).toEqual({ kind: "sqlite", path: "/tmp/x.db", pingRetention: 70 });
    expect(parseConfig(applyEnv(sqliteFile, { BOTGATE_MYSQL_URL: "http://u:p@127.0.0.1:3900" })).store).toEqual({
      kind: "mysql",
      url: "http://u:p@127.0.0.1:3900",
      pingRetention: 50,
      requestTimeoutMs: 10_000,
    });
  });
});
