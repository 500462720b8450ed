import { expect, test } from "bun:test";

test("committed src/wasm/generated.ts matches wasm/assembly (build-wasm.ts --check)", async () => {
  const proc = Bun.spawn(["bun", "scripts/build-wasm.ts", "--check"], {
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(err).toBe("");
  expect(code).toBe(0);
}, 60_000);
