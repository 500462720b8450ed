import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";

const MAIN = resolve(import.meta.dir, "../../src/store/psdb-proxy/main.ts");
const run = (...args: string[]) => {
  const p = Bun.spawnSync(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, PSDB_PROXY_PASSWORD: "" } });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
};

describe("psdb-proxy command line", () => {
  test("--help prints usage; an unknown option is a usage error, not a crash", () => {
    expect(run("--help")).toMatchObject({ code: 0 });
    const bad = run("--bogus");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("Unknown option '--bogus'");
    expect(bad.out).not.toContain("    at ");
  });

  test("refuses a non-loopback address without a password (fail closed)", () => {
    const r = run("--mysql", "mysql://root@127.0.0.1:3306/test", "--host", "0.0.0.0");
    expect(r.code).toBe(2);
    expect(r.out).toContain("refusing to listen on 0.0.0.0 without a password");
  });
  test("--statement-timeout-ms must be a whole number of milliseconds", () => {
    for (const bad of ["0", "-5", "1.5", "soon"]) {
      const r = run("--mysql", "mysql://root@127.0.0.1:3306/test", `--statement-timeout-ms=${bad}`);
      expect(r.code).toBe(2);
      expect(r.out).toContain("--statement-timeout-ms must be a whole number of milliseconds");
    }
    expect(run("--help").out).toContain("--statement-timeout-ms");
  });
});
