import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { webhookHandler } from "../../src/bot/webhook.ts";
import type { PipelineOptions } from "../../src/pipeline/pool.ts";
import { inbound, live, pipelineWith, type TestPipeline, waitUntil } from "./support.ts";

const SECRET = "webhook-secret-0123456789";

/** What the test server should answer next, per path. */
type Answer = (req: Request, body: any) => Response | Promise<Response>;
const answers = new Map<string, Answer>();
const received: Array<{ path: string; body: any; verified: boolean; timestamp: string | null }> = [];
let aborted = 0;
let server: ReturnType<typeof Bun.serve>;
let base = "";

function verify(secret: string, ts: string | null, raw: string, header: string | null): boolean {
  if (ts === null || header === null || !header.startsWith("sha256=")) return false;
  const want = createHmac("sha256", secret).update(`${ts}.${raw}`).digest();
  const got = Buffer.from(header.slice(7), "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const raw = await req.text();
      const ts = req.headers.get("x-botgate-timestamp");
      received.push({ path, body: JSON.parse(raw), verified: verify(SECRET, ts, raw, req.headers.get("x-botgate-signature")), timestamp: ts });
      req.signal.addEventListener("abort", () => aborted++);
      const a = answers.get(path);
      return a ? a(req, JSON.parse(raw)) : Response.json({ reply: null });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

let t: TestPipeline | null = null;
afterEach(async () => {
  await t?.pipeline.close();
  t = null;
  received.length = 0;
  answers.clear();
});

function webhookPipeline(path: string, options: Partial<PipelineOptions> = {}, url = base + path): TestPipeline {
  return pipelineWith({ hook: webhookHandler("hook", { url, secret: SECRET }) }, options);
}

describe("webhook bots", () => {
  test("POSTs the message as signed JSON with the deadline; the answer's reply list is sent", async () => {
    answers.set("/bot", (_req, body) => Response.json({ reply: [`you said ${body.message.text}`, { text: "MEDIA_URL:https://example.org/x.png", mediaWaitTime: 3000 }] }));
    t = webhookPipeline("/bot", { jobTimeoutMs: 5000 });
    const before = Date.now();
    t.pipeline.submit(inbound({ bot: "hook", text: "안녕", room: "방", channelId: "99" }));
    await t.out.waitFor(2);
    expect(t.out.deliveries.flatMap((d) => d.items)).toEqual(["you said 안녕", { text: "MEDIA_URL:https://example.org/x.png", mediaWaitTime: 3000 }]);
    const r = received[0]!;
    expect(r.verified).toBe(true);
    expect(Math.abs(Number(r.timestamp) - before)).toBeLessThan(2000);
    expect(r.body).toMatchObject({ bot: "hook", room: "방", channelId: "99", message: { text: "안녕", bot: "hook" }, device: { deviceId: "dev" } });
    expect(r.body.deadline).toBeGreaterThanOrEqual(before + 5000);
    expect(r.body.deadline).toBeLessThan(Date.now() + 5000 + 1);
  });

  test("a wrong secret does not verify (the receiver can tell)", async () => {
    t = pipelineWith({ hook: webhookHandler("hook", { url: `${base}/x`, secret: "some-other-secret-xyz" }) });
    t.pipeline.submit(inbound({ bot: "hook" }));
    await waitUntil(() => t!.pipeline.stats().completed === 1, 2000, "the webhook call");
    expect(received[0]!.verified).toBe(false);
  });

  test("answer forms: string, null, @no-reply, 204 and empty body", async () => {
    const forms: Array<() => Response> = [
      () => Response.json({ reply: "plain" }),
      () => Response.json({ reply: null }),
      () => Response.json({ reply: "@no-reply" }),
      () => new Response(null, { status: 204 }),
      () => new Response("", { status: 200 }),
      () => Response.json({ reply: { text: "object", mediaWaitTime: 10 } }),
    ];
    let i = 0;
    answers.set("/forms", () => forms[i++]!());
    t = webhookPipeline("/forms", { perRoomConcurrency: 1 });
    for (let k = 0; k < forms.length; k++) t.pipeline.submit(inbound({ bot: "hook" }));
    await waitUntil(() => t!.pipeline.stats().completed === forms.length, 3000, "all answers");
    expect(t.out.deliveries.flatMap((d) => d.items)).toEqual(["plain", { text: "object", mediaWaitTime: 10 }]);
    expect(t.pipeline.stats().failed).toBe(0);
  });

  test("a slow webhook is cut off at the job's deadline: request aborted, timeout counted, nothing sent", async () => {
    answers.set("/slow", () => new Promise((r) => setTimeout(() => r(Response.json({ reply: "late" })), 1500)));
    t = webhookPipeline("/slow", { jobTimeoutMs: 80 });
    t.pipeline.submit(inbound({ bot: "hook" }));
    await waitUntil(() => t!.pipeline.stats().timeouts === 1, 2000, "the timeout");
    await waitUntil(() => t!.pipeline.stats().zombies.count === 0, 1000, "fetch to give up after the abort");
    await waitUntil(() => aborted >= 1, 1000, "the server to see the request aborted");
    expect(t.out.count).toBe(0);
    expect(live(t.tracker)).toEqual({ job: 0, timer: 0 });
  });

  test("failing webhooks: HTTP 500, refused connection and malformed answers fail the job (counted by code)", async () => {
    answers.set("/500", () => new Response("oops", { status: 500 }));
    answers.set("/notjson", () => new Response("hello", { status: 200 }));
    answers.set("/noreply", () => Response.json({ text: "wrong shape" }));
    answers.set("/baditem", () => Response.json({ reply: [1, 2] }));
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const deadUrl = `http://127.0.0.1:${closed.port}/gone`;
    closed.stop(true);
    const hooks = { h500: `${base}/500`, hNotJson: `${base}/notjson`, hNoReply: `${base}/noreply`, hBadItem: `${base}/baditem`, hDead: deadUrl };
    t = pipelineWith(Object.fromEntries(Object.entries(hooks).map(([name, url]) => [name, webhookHandler(name, { url, secret: SECRET })])));
    for (const name of Object.keys(hooks)) t.pipeline.submit(inbound({ bot: name }));
    await waitUntil(() => t!.pipeline.stats().failed === 5, 3000, "five failures");
    expect(t.pipeline.stats().failures).toEqual({ WEBHOOK_FAILED: 2, WEBHOOK_BAD_ANSWER: 3 });
    expect(t.out.count).toBe(0);
  });

  test("redirects are not followed: the signed body never goes elsewhere, the job fails", async () => {
    answers.set("/elsewhere", () => Response.json({ reply: "from elsewhere" }));
    answers.set("/302", () => new Response(null, { status: 302, headers: { location: `${base}/elsewhere` } }));
    answers.set("/308", () => new Response(null, { status: 308, headers: { location: `${base}/elsewhere` } }));
    t = pipelineWith({ h302: webhookHandler("h302", { url: `${base}/302`, secret: SECRET }), h308: webhookHandler("h308", { url: `${base}/308`, secret: SECRET }) });
    t.pipeline.submit(inbound({ bot: "h302" }));
    t.pipeline.submit(inbound({ bot: "h308" }));
    await waitUntil(() => t!.pipeline.stats().failed === 2, 3000, "two failures");
    expect(t.pipeline.stats().failures).toEqual({ WEBHOOK_FAILED: 2 });
    expect(received.map((r) => r.path).sort()).toEqual(["/302", "/308"]);
    expect(t.out.count).toBe(0);
  });

  test("an answer over 1 MiB is refused by bytes as it streams (chunked Korean text, no content-length)", async () => {
    // 400,000 Hangul syllables: 0.4 M characters, 1.2 MB of UTF-8, sent in chunks
    const big = new TextEncoder().encode(JSON.stringify({ reply: "가".repeat(400_000) }));
    let sent = 0;
    answers.set("/big", () => new Response(new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= big.length) return c.close();
        c.enqueue(big.subarray(sent, sent + 64 * 1024));
        sent += 64 * 1024;
      },
    })));
    t = webhookPipeline("/big");
    t.pipeline.submit(inbound({ bot: "hook" }));
    await waitUntil(() => t!.pipeline.stats().failed === 1, 3000, "the failure");
    expect(t.pipeline.stats().failures).toEqual({ WEBHOOK_BAD_ANSWER: 1 });
    expect(t.out.count).toBe(0);
  });

  test("a connection that breaks in the middle of the answer is WEBHOOK_FAILED (a network error), not a handler bug", async () => {
    const raw = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(sock) {
          sock.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"reply\": \"cut");
          sock.flush();
          sock.end();
        },
      },
    });
    try {
      t = webhookPipeline("", {}, `http://127.0.0.1:${raw.port}/hook`);
      t.pipeline.submit(inbound({ bot: "hook" }));
      await waitUntil(() => t!.pipeline.stats().failed === 1, 3000, "the failure");
      expect(t.pipeline.stats().failures).toEqual({ WEBHOOK_FAILED: 1 });
    } finally {
      raw.stop(true);
    }
  });
});
