// Guards the benchmark scripts against rot: tiny runs must exit 0 and print their figures.
// Not a performance assertion (timings on a shared 2-core machine are noise).
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");

async function run(script: string, args: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn({ cmd: [process.execPath, join(root, script), ...args], cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  return { code, out: out + err };
}

test("soak --quick: 300 churn cycles leave no leaked resources", async () => {
  // A 300-cycle run is all warm-up for the allocators, so --quick loosens the RSS bound; the full soak uses 5%.
  const r = await run("scripts/soak.ts", ["--quick"]);
  expect(r.out).toContain("RSS growth after GC <= 50%");
  expect(r.out).toContain("soak: PASS");
  expect(r.out).toMatch(/RSS growth after GC/);
  expect(r.out).toMatch(/tracked session: 0/);
  expect(r.code).toBe(0);
}, 60_000);

test("bench --quick runs the echo limit and botgate, both again at half rate, and prints the table", async () => {
  const out = mkdtempSync(join(tmpdir(), "botgate-bench-test-"));
  try {
    const r = await run("scripts/bench.ts", ["--quick", "--out", out]);
    expect(r.out).toMatch(/\| echo-limit +\|/);
    expect(r.out).toMatch(/\| botgate +\|/);
    expect(r.out).toMatch(/\| echo@50% +\| open \d+\/s/);
    expect(r.out).toMatch(/\| botgate@50% +\| open \d+\/s .*\| +- \| +\d+ \| +0 \|/); // no stall timer unless asked
    expect(r.out).toMatch(/p99 <= 5 ms at half of max throughput .* ms at [\d,]+\/s \(the echo server at the same rate: [\d.]+ ms\)/);
    expect(r.out).toMatch(/msgs\/s/);
    expect(r.out).toContain(`wrote ${out}/bench-`);
    expect(r.code).toBe(0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 90_000);

test("bench --sweep runs the echo server and botgate at each rate and reports where p99 stays <= 5 ms", async () => {
  const out = mkdtempSync(join(tmpdir(), "botgate-bench-test-"));
  try {
    const r = await run("scripts/bench.ts", ["--quick", "--sweep", "1000", "--stall-probe", "--out", out]);
    // With --stall-probe the "stall ms srv/gen" column holds figures (and "srv runq ms" after it).
    expect(r.out).toMatch(/\| echo@1000 +\| open 1000\/s .*\| +\d+\/\d+ \| +\d+ \| +0 \|/);
    expect(r.out).toMatch(/\| botgate@1000 +\| open 1000\/s .*\| +\d+\/\d+ \| +\d+ \| +0 \|/);
    expect(r.out).toMatch(/echo: p99 <= 5 ms at every swept rate up to: /);
    expect(r.out).toMatch(/botgate: p99 <= 5 ms at every swept rate up to: /);
    expect(r.out).not.toMatch(/round trips >= /); // throughput targets are judged only in the closed loop
    expect(r.code).toBe(0);
    const bad = await run("scripts/bench.ts", ["--sweep", "1000,fast"]);
    expect(bad.out).toContain(`--sweep needs positive rates separated by commas, got "1000,fast"`);
    expect(bad.code).toBe(2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 90_000);

test("bench:hotpath pushes presigned lines through the real gateway and gets every reply", async () => {
  const r = await run("scripts/bench-hotpath.ts", ["--phones", "4", "--messages", "800", "--rounds", "2"]);
  expect(r.out).toMatch(/round 2: \d+ messages/);
  expect(r.out).toMatch(/ns CPU per message .*; errors 0/);
  expect(r.code).toBe(0);
}, 60_000);
