import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli.ts";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import { resolveTarget } from "../../src/cli/target.ts";
import { table, width } from "../../src/cli/table.ts";

function configFile(admin: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "botgate-cli-"));
  const path = join(dir, "botgate.config.json");
  writeFileSync(path, JSON.stringify({ admin }));
  return path;
}

async function run(argv: string[], env: Record<string, string> = {}, fetch?: any) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l), fetch });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("CLI target", () => {
  test("flags beat env, env beats the config file; a wildcard admin host is reached on loopback", () => {
    const path = configFile({ host: "0.0.0.0", port: 41000, token: "file-token-0123456789" });
    expect(resolveTarget(new Map([["config", path]]), {})).toMatchObject({ url: "http://127.0.0.1:41000", token: "file-token-0123456789" });
    expect(resolveTarget(new Map([["config", path]]), { BOTGATE_ADMIN_TOKEN: "env-token", BOTGATE_ADMIN_URL: "http://h:1" })).toMatchObject({ url: "http://h:1", token: "env-token" });
    expect(resolveTarget(new Map([["config", path], ["token", "flag"], ["url", "https://x:2"]]), { BOTGATE_ADMIN_TOKEN: "env" })).toMatchObject({ url: "https://x:2", token: "flag" });
    expect(resolveTarget(new Map([["config", configFile({ host: "::1" })]]), {}).url).toBe("http://[::1]:37889");
    expect(() => resolveTarget(new Map([["url", "localhost:1"]]), {})).toThrow(UsageError);
    expect(resolveTarget(new Map([["url", "HTTPS://gw.example:37889"], ["token", "t"]]), {}).url).toBe("HTTPS://gw.example:37889"); // schemes are case-insensitive
    expect(() => resolveTarget(new Map([["url", "ftp://admin:s3cret@gw.example"]]), {})).toThrow('got "ftp://***@gw.example"'); // no password in the message
    for (const url of ["admin:s3cret@gw.example:37889", "http:/admin:s3cret@gw.example", "ftp://admin:s3/cret@gw.example", "ftp://admin:s3@cret@gw.example"]) {
      expect(() => resolveTarget(new Map([["url", url]]), {})).toThrow(UsageError);
      try {
        resolveTarget(new Map([["url", url]]), {});
      } catch (e) {
        expect((e as Error).message).not.toContain("s3");
        expect((e as Error).message).toContain("***@");
      }
    }
  });

  test("BOTGATE_ADMIN_HOST / BOTGATE_ADMIN_PORT apply as on the server, also without a config file", () => {
    const missing = join(mkdtempSync(join(tmpdir(), "botgate-cli-")), "none.json");
    expect(resolveTarget(new Map(), { BOTGATE_CONFIG: missing, BOTGATE_ADMIN_PORT: "41001" })).toEqual({ url: "http://127.0.0.1:41001", token: null });
    expect(resolveTarget(new Map(), { BOTGATE_CONFIG: missing, BOTGATE_ADMIN_HOST: "::1", BOTGATE_ADMIN_PORT: "41002" }).url).toBe("http://[::1]:41002");
    expect(resolveTarget(new Map(), { BOTGATE_CONFIG: missing }).url).toBe("http://127.0.0.1:37889");
    const path = configFile({ host: "127.0.0.2", port: 41000, token: "file-token-0123456789" });
    expect(resolveTarget(new Map([["config", path]]), { BOTGATE_ADMIN_PORT: "41003" })).toEqual({ url: "http://127.0.0.2:41003", token: "file-token-0123456789" });
    // The server's number check: a bad port is a configuration error, not a URL with "abc" in it.
    expect(() => resolveTarget(new Map(), { BOTGATE_CONFIG: missing, BOTGATE_ADMIN_PORT: "abc" })).toThrow(/BOTGATE_ADMIN_PORT: must be a whole number/);
  });

  test("an empty BOTGATE_ADMIN_URL / BOTGATE_ADMIN_TOKEN / BOTGATE_CONFIG counts as unset, as on the server", () => {
    const path = configFile({ port: 41004, token: "file-token-0123456789" });
    expect(resolveTarget(new Map([["config", path]]), { BOTGATE_ADMIN_URL: "", BOTGATE_ADMIN_TOKEN: "" })).toEqual({ url: "http://127.0.0.1:41004", token: "file-token-0123456789" });
    // BOTGATE_CONFIG="" falls back to ./botgate.config.json, as the server does
    const cwd = process.cwd();
    try {
      process.chdir(path.replace(/\/botgate\.config\.json$/, ""));
      expect(resolveTarget(new Map(), { BOTGATE_CONFIG: "" })).toEqual({ url: "http://127.0.0.1:41004", token: "file-token-0123456789" });
    } finally {
      process.chdir(cwd);
    }
  });

  test("a token that cannot go into an HTTP header is a usage error (exit 2), not 'unreachable'", async () => {
    for (const token of ["관리자토큰관리자토큰관리자토큰관리자", "has space 0123456789"]) {
      const r = await run(["stats"], { BOTGATE_ADMIN_URL: "http://127.0.0.1:9", BOTGATE_ADMIN_TOKEN: token }, async () => new Response("{}"));
      expect(r.code).toBe(2);
      expect(r.err).toContain("printable ASCII");
    }
  });

  test("the CLI calls the port from BOTGATE_ADMIN_PORT when there is no config file", async () => {
    const missing = join(mkdtempSync(join(tmpdir(), "botgate-cli-")), "none.json");
    const seen: string[] = [];
    const fetch = async (url: string) => {
      seen.push(url);
      return new Response(JSON.stringify({ error: { code: "FORBIDDEN", message: "no token" } }), { status: 403 });
    };
    const r = await run(["sessions", "list"], { BOTGATE_CONFIG: missing, BOTGATE_ADMIN_PORT: "41001" }, fetch);
    expect(seen.map((u) => new URL(u).origin)).toEqual(["http://127.0.0.1:41001"]);
    expect(r.code).toBe(1);
    const bad = await run(["sessions", "list"], { BOTGATE_CONFIG: missing, BOTGATE_ADMIN_PORT: "41001x" }, fetch);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("BOTGATE_ADMIN_PORT: must be a whole number");
    for (const url of ["http://", "http://exa mple:1", "https://u:p@[::1"]) {
      const r = await run(["sessions", "list", "--url", url], { BOTGATE_ADMIN_TOKEN: "t" }, fetch);
      expect([url, r.code]).toEqual([url, 2]);
      expect(r.err).toContain("admin URL is not a valid URL");
      expect(r.err).not.toContain("u:p");
    }
    expect(seen).toHaveLength(1);
  });
});

describe("CLI arguments and exit codes", () => {
  test("parses --flag value, --flag=value and switches; rejects unknown options", () => {
    const p = parseArgs(["devices", "list", "--bot=LOA.i", "--status", "pending", "--json"], new Set(["bot", "status"]));
    expect(p.positionals).toEqual(["devices", "list"]);
    expect(Object.fromEntries(p.flags)).toEqual({ bot: "LOA.i", status: "pending" });
    expect(p.switches.has("json")).toBe(true);
    expect(() => parseArgs(["--nope"], new Set())).toThrow("unknown option --nope");
    expect(() => parseArgs(["--bot"], new Set(["bot"]))).toThrow("needs a value");
    // a value option followed by an option is a forgotten value; --flag=--x is still possible
    expect(() => parseArgs(["send", "--device", "--json", "hi"], new Set(["device"]))).toThrow("--device needs a value");
    expect(parseArgs(["--device=--json"], new Set(["device"])).flags.get("device")).toBe("--json");
    expect(parseArgs(["--room", "-"], new Set(["room"])).flags.get("room")).toBe("-");
  });

  test("usage errors exit 2 without calling the API", async () => {
    let called = 0;
    const fetch = async () => {
      called++;
      return new Response("{}");
    };
    for (const argv of [[], ["frobnicate"], ["devices", "approve", "LOA.i"], ["send", "--bot", "B", "hello"], ["send", "--bot", "B", "--room", "R"], ["devices", "list", "extra"], ["sessions", "list", "--wat"], ["stats", "bogus"], ["stats", "--bot", "B"], ["devices", "approve", "LOA.i", "d", "--reason", "x"], ["sessions", "kick", "LOA.i", "d", "--description", "x"], ["send", "--bot", "B", "--room", "R", "--status", "x", "hi"]]) {
      const r = await run(argv, { BOTGATE_ADMIN_URL: "http://127.0.0.1:9" }, fetch);
      expect(r.code).toBe(2);
      expect(r.err).not.toBe("");
    }
    expect(called).toBe(0);
    expect((await run(["--help"])).code).toBe(0);
  });

  test("API errors exit 1 with code, message and field errors; a 401 hints at the token", async () => {
    const fetch = async () => new Response(JSON.stringify({ error: { code: "UNAUTHORIZED", message: "invalid admin token" } }), { status: 401 });
    const r = await run(["sessions", "list"], { BOTGATE_ADMIN_URL: "http://127.0.0.1:9", BOTGATE_ADMIN_TOKEN: "t" }, fetch);
    expect(r.code).toBe(1);
    expect(r.err).toContain("UNAUTHORIZED (HTTP 401): invalid admin token");
    expect(r.err).toContain("--token");
  });

  test("sends the bearer token and the right request", async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const fetch = async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response(JSON.stringify({ accepted: 1, bot: "B", device: "d", room: "R" }), { status: 202 });
    };
    const r = await run(["send", "--bot", "B", "--channel", "123", "--device", "d", "hi", "there"], { BOTGATE_ADMIN_URL: "http://a:1/", BOTGATE_ADMIN_TOKEN: "tok" }, fetch);
    expect(r.code).toBe(0);
    expect(seen[0]!.url).toBe("http://a:1/api/messages");
    expect((seen[0]!.init.headers as any).authorization).toBe("Bearer tok");
    expect(JSON.parse(seen[0]!.init.body as string)).toEqual({ bot: "B", text: "hi there", channelId: "123", device: "d" });
  });

  test("as a process: an unreachable admin API exits 3 with a clear message", async () => {
    const proc = Bun.spawn(["bun", "src/cli.ts", "sessions", "list", "--url", "http://127.0.0.1:9"], { cwd: `${import.meta.dir}/../..`, stderr: "pipe", stdout: "pipe", env: { ...process.env, BOTGATE_CONFIG: "/nonexistent.json" } });
    const code = await proc.exited;
    expect(code).toBe(3);
    expect(await new Response(proc.stderr).text()).toContain("cannot reach the admin API at http://127.0.0.1:9");
  });

  test("URL credentials are masked in error messages", async () => {
    const r = await run(["stats", "--url", "http://admin:s3cret@127.0.0.1:9"], {}, async () => {
      throw new TypeError("connection refused");
    });
    expect(r.code).toBe(3);
    expect(r.err).toContain("cannot reach the admin API at http://***@127.0.0.1:9");
    expect(r.err).not.toContain("s3cret");
  });
});

describe("CLI tables", () => {
  test("columns align by display width (Hangul counts double)", () => {
    expect(width("공지")).toBe(4);
    const t = table(["A", "B"], [["공지", "x"], ["ab", null]]).split("\n");
    expect(t).toEqual(["A     B", "공지  x", "ab    -"]);
  });
});
