/**
 * End to end over real HTTP: a running gateway with its admin API on a real
 * port, legacy phones on real sockets, operated through fetch and the CLI.
 */
import { describe, expect, test } from "bun:test";
import { runCli } from "../../src/cli.ts";
import { ADMIN_TOKEN, BOT, startTestGateway, until } from "../support/harness.ts";
import { phoneOn, perTest } from "./helpers.ts";

const fx = perTest();

async function http(method: string, path: string, body?: unknown) {
  const res = await fetch(fx.gw!.adminUrl + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: { BOTGATE_ADMIN_URL: fx.gw!.adminUrl!, BOTGATE_ADMIN_TOKEN: ADMIN_TOKEN }, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("admin API end to end", () => {
  test("over real HTTP: approve one phone, kick another, push into a room through the approved one", async () => {
    fx.gw = await startTestGateway({ bots: [{ ...BOT, autoApprove: false }], pipeline: { replyGapMs: 0 } }, { admin: true });
    const { phone: a, hello } = await phoneOn(fx.gw.port, "phone-a");
    const { phone: b } = await phoneOn(fx.gw.port, "phone-b");
    fx.phones.push(a, b);
    expect(hello.data.approved).toBe(false);

    expect((await fetch(fx.gw.adminUrl + "/healthz")).status).toBe(200);
    expect((await fetch(fx.gw.adminUrl + "/readyz")).status).toBe(200);
    expect((await fetch(fx.gw.adminUrl + "/api/sessions")).status).toBe(401);

    // nothing approved yet: a push has nowhere to go
    const none = await http("POST", "/api/messages", { bot: BOT.name, room: "공지", text: "x" });
    expect(none.status).toBe(409);
    expect(none.json.error.code).toBe("NO_DEVICE");

    // approve phone-a; it applies to its live session at once
    const ok = await http("PATCH", `/api/devices/${BOT.name}/phone-a`, { action: "approve" });
    expect(ok).toMatchObject({ status: 200, json: { status: "approved", connected: true } });
    a.write(a.analyzeLine({ text: "!ping" }));
    expect((await a.next((f) => f.event === "messageResponse")).data.text).toBe("pong!");

    // kick phone-b
    const kick = await http("DELETE", `/api/sessions/${BOT.name}/phone-b`, { reason: "e2e" });
    expect(kick.status).toBe(200);
    await b.waitClosed();
    await until(() => fx.gw!.app.gateway.getSession(BOT.name, "phone-b") === undefined, 3000, "phone-b gone");
    expect((await http("GET", "/api/sessions")).json.items.map((s: any) => s.device)).toEqual(["phone-a"]);

    // push through the approved phone
    const push = await http("POST", "/api/messages", { bot: BOT.name, room: "공지", channelId: "42", text: "안녕하세요" });
    expect(push).toMatchObject({ status: 202, json: { device: "phone-a" } });
    expect((await a.next((f) => f.event === "messageResponse")).data).toEqual({ room: "공지", text: "안녕하세요", channel_id: "42" });

    const metrics = await (await fetch(fx.gw.adminUrl + "/metrics", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(metrics).toContain('botgate_connections_closed_total{reason="kicked"} 1');
    expect(metrics).toContain("botgate_connections_current 1");
  });

  test("the CLI does the same: devices list/approve/block, sessions list/kick, send", async () => {
    fx.gw = await startTestGateway({ bots: [{ ...BOT, autoApprove: false }], pipeline: { replyGapMs: 0 } }, { admin: true });
    const { phone: a } = await phoneOn(fx.gw.port, "phone-a");
    const { phone: b } = await phoneOn(fx.gw.port, "phone-b");
    const { phone: c } = await phoneOn(fx.gw.port, "phone-c");
    fx.phones.push(a, b, c);

    const list = await cli("devices", "list", "--status", "pending");
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/BOT\s+DEVICE\s+STATUS/);
    expect(list.out).toContain("phone-a");
    expect(list.out).toContain("3 of 3 device(s)");

    const approve = await cli("devices", "approve", BOT.name, "phone-a");
    expect(approve).toMatchObject({ code: 0 });
    expect(approve.out).toContain("now approved (live session updated)");

    const block = await cli("devices", "block", BOT.name, "phone-c");
    expect(block.code).toBe(0);
    await c.waitClosed();

    const sessions = await cli("sessions", "list", "--json");
    expect(sessions.code).toBe(0);
    const parsed = JSON.parse(sessions.out);
    expect(parsed.items.map((s: any) => [s.device, s.status])).toEqual([["phone-a", "approved"], ["phone-b", "pending"]]);

    const kick = await cli("sessions", "kick", BOT.name, "phone-b", "--reason", "cli test");
    expect(kick).toMatchObject({ code: 0, out: `kicked phone-b of ${BOT.name} (cli test)` });
    await b.waitClosed();

    const send = await cli("send", "--bot", BOT.name, "--room", "공지", "서버", "점검");
    expect(send.code).toBe(0);
    expect(send.out).toContain("through device phone-a");
    expect((await a.next((f) => f.event === "messageResponse")).data).toMatchObject({ room: "공지", text: "서버 점검" });

    const gone = await cli("sessions", "kick", BOT.name, "phone-b");
    expect(gone.code).toBe(1);
    expect(gone.err).toContain("NOT_FOUND (HTTP 404)");

    const badStatus = await cli("devices", "list", "--status", "online");
    expect(badStatus.code).toBe(1);
    expect(badStatus.err).toContain("  - status: must be one of");

    const noToken = await runCli(["sessions", "list"], { env: { BOTGATE_ADMIN_URL: fx.gw.adminUrl!, BOTGATE_CONFIG: "/nonexistent/botgate.json" }, out: () => {}, err: () => {} });
    expect(noToken).toBe(1);
  });
});
