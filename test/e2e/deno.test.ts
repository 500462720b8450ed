import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BOT } from "../support/harness.ts";
import { LegacyPhone } from "../support/phone.ts";
import { readUntil } from "../support/process.ts";

const ROOT = resolve(import.meta.dir, "../..");
let proc: ReturnType<typeof Bun.spawn> | null = null;
afterEach(() => {
  proc?.kill("SIGKILL");
  proc = null;
});

describe("portability", () => {
  test("the same gateway runs under Deno through its adapter", async () => {
    const deno = Bun.which("deno");
    if (!deno) throw new Error("deno is not installed: npm install -g deno (CI installs it)");
    const dir = mkdtempSync(join(tmpdir(), "botgate-deno-"));
    const cfg = join(dir, "botgate.config.json");
    await Bun.write(cfg, JSON.stringify({ listen: { host: "127.0.0.1", port: 0 }, store: { kind: "sqlite", path: join(dir, "db.sqlite") }, bots: [{ ...BOT, autoApprove: true }], admin: { host: "127.0.0.1", port: 0, token: "deno-admin-token-0123456789" } }));
    proc = Bun.spawn([deno, "run", "-A", "src/main.ts", "--config", cfg], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
    const out = await readUntil(proc.stdout as ReadableStream<Uint8Array>, (t) => /"msg":"listening".*\n/.test(t) && /"admin API listening".*\n/.test(t), 60_000);
    const port = JSON.parse(out.split("\n").find((l) => l.includes('"listening"'))!).port;
    const phone = await LegacyPhone.connect(port, { botName: BOT.name, deviceId: "deno-phone", secret: BOT.secret, salt: BOT.salt });
    const lines = phone.handshakeLine() + phone.analyzeLine({ text: "!echo 데노에서도 🦕" }) + phone.analyzeLine({ text: "!ping" });
    phone.write(lines);
    expect((await phone.next((f) => f.event === "handshakeComplete", 10_000)).data.success).toBe(true);
    expect((await phone.next((f) => f.event === "messageResponse", 10_000)).data.text).toBe("데노에서도 🦕");
    expect((await phone.next((f) => f.event === "messageResponse", 10_000)).data.text).toBe("pong!");
    // the admin API is served by Deno.serve through the same adapter
    const admin = JSON.parse(out.split("\n").find((l) => l.includes('"admin API listening"')) ?? "null");
    expect(admin).not.toBeNull();
    const res = await fetch(`http://127.0.0.1:${admin.port}/api/sessions`, { headers: { authorization: "Bearer deno-admin-token-0123456789" } });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain("deno-phone");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    await phone.waitClosed();
    proc = null;
  }, 90_000);

  test("arguments after a leading -- (Deno passes it on to the script) are read", async () => {
    const deno = Bun.which("deno");
    if (!deno) throw new Error("deno is not installed: npm install -g deno (CI installs it)");
    const p = Bun.spawn([deno, "run", "-A", "src/main.ts", "--", "--help"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    expect(await p.exited).toBe(0);
    expect(out).toContain("Usage: bun start");
  });
});
