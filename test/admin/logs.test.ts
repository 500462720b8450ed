import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log/logger.ts";
import { ADMIN_TOKEN, BOT, startTestGateway } from "../support/harness.ts";
import { perTest } from "./helpers.ts";

const fx = perTest();

function capture(level: "debug" | "info" | "warn" | "error" | "silent") {
  const lines: string[] = [];
  return { log: createLogger(level, (l) => lines.push(l)), lines };
}

describe("structured logs", () => {
  test("one JSON object per line with time, level and msg; lower levels are filtered", () => {
    const { log, lines } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w", { n: 1 });
    log.error("e");
    expect(lines.length).toBe(2);
    for (const l of lines) {
      expect(l.includes("\n")).toBe(false);
      expect(JSON.parse(l)).toMatchObject({ time: expect.any(String), level: expect.any(String), msg: expect.any(String) });
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", msg: "w", n: 1 });
    const silent = capture("silent");
    silent.log.error("nothing");
    expect(silent.lines).toEqual([]);
  });

  test("secrets never appear: secret-named keys at any depth, bearer tokens and URL passwords in text", () => {
    const { log, lines } = capture("debug");
    const secret = "s3cr3t-VALUE-0123456789";
    log.info("config", { admin: { host: "127.0.0.1", token: secret }, bots: [{ name: "b", secret, salt: secret }] });
    log.warn("request", { headers: { Authorization: `Bearer ${secret}` }, note: `got Bearer ${secret} from client` });
    log.error("store", { error: new Error(`connect https://user:${secret}@db.example/x failed`), url: `mysql://root:${secret}@host/db` });
    log.child({ apiToken: secret }).info("child");
    log.error("unparsable", { note: `bad url https://user:${secret}/x#y@db.example` }); // "/" or "#" in the password
    log.error("at sign", { note: `bad url https://user:${secret}@tail@db.example/x` }); // "@" in the password
    log.error("digits", { note: `https://user:12345/${secret}@db.example` }); // a password that starts like a port
    log.error("empty user", { url: `mysql://:${secret}@host/db` });
    log.info("port", { url: "http://127.0.0.1:37889/api/stats" }); // a port is not a password
    for (const l of lines) expect(l).not.toContain(secret);
    expect(JSON.parse(lines[0]!).admin).toEqual({ host: "127.0.0.1", token: "[redacted]" });
    expect(JSON.parse(lines[2]!).url).toBe("mysql://root:[redacted]@host/db");
    expect(lines.some((l) => l.includes("tail@"))).toBe(false);
    expect(JSON.parse(lines.at(-1)!).url).toBe("http://127.0.0.1:37889/api/stats");
  });

  test("the level comes from config.log.level", async () => {
    const { parseConfig } = await import("../../src/config/options.ts");
    expect(parseConfig({ log: { level: "warn" } }).log.level).toBe("warn");
    expect(() => parseConfig({ log: { level: "loud" } })).toThrow("log.level");
  });

  test("a full admin session over real HTTP logs neither the admin token nor bot secrets", async () => {
    fx.gw = await startTestGateway({}, { admin: true });
    const h = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    await fetch(`${fx.gw.adminUrl}/api/sessions`, { headers: h });
    await fetch(`${fx.gw.adminUrl}/api/sessions`, { headers: { authorization: `Bearer wrong-${ADMIN_TOKEN}` } });
    await fetch(`${fx.gw.adminUrl}/api/messages`, { method: "POST", headers: h, body: JSON.stringify({ bot: BOT.name, room: "r", text: "x" }) });
    await fx.gw.stop();
    expect(fx.gw.logs.length).toBeGreaterThan(2);
    for (const l of fx.gw.logs) {
      expect(l).not.toContain(ADMIN_TOKEN);
      expect(l).not.toContain(BOT.secret);
      expect(l).not.toContain(BOT.salt);
    }
  });
});
