import { describe, expect, test } from "bun:test";
import { PromWriter } from "../../src/admin/prom.ts";
import { LabeledCounter } from "../../src/metrics/primitives.ts";
import { BOT, startTestGateway, until } from "../support/harness.ts";
import { adminFor, call, phoneOn, perTest } from "./helpers.ts";

const fx = perTest();

/** Parse exposition text into families (HELP/TYPE) and samples; throws on any malformed line. */
function parse(text: string) {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.trimEnd().split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line))) types.set(m[1]!, m[2]!);
    else if (/^# HELP \w+ .+$/.test(line)) continue;
    else if ((m = /^(\w+)(\{(?:\w+="(?:[^"\\]|\\.)*",?)*\})? (-?[\d.e+]+|NaN|\+Inf)$/.exec(line))) samples.set(m[1]! + (m[2] ?? ""), Number(m[3]));
    else throw new Error(`malformed exposition line: ${line}`);
  }
  for (const key of samples.keys()) {
    const name = key.replace(/\{.*$/, "").replace(/_(bucket|sum|count)$/, "");
    if (!types.has(name) && !types.has(key.replace(/\{.*$/, ""))) throw new Error(`sample without TYPE: ${key}`);
  }
  return { types, samples };
}

describe("GET /metrics", () => {
  test("Prometheus text with every family the issue lists, counting real traffic", async () => {
    fx.gw = await startTestGateway();
    const app = adminFor(fx.gw);
    const { phone } = await phoneOn(fx.gw.port, "dev-m");
    fx.phones.push(phone);
    phone.write(phone.analyzeLine({ text: "!ping" }));
    await phone.next((f) => f.event === "messageResponse");
    phone.write(phone.pingLine(Date.now() - 30));
    phone.write(phone.analyzeLine({}, { bogus: true }));
    await phone.next((f) => f.event === "error");
    await until(() => fx.gw!.app.gateway.metrics.pingRttMs.count === 1, 3000, "ping");
    const kicked = (await phoneOn(fx.gw.port, "dev-k")).phone;
    await call(app, "DELETE", `/api/sessions/${BOT.name}/dev-k`);
    await kicked.waitClosed();
    await until(() => fx.gw!.app.gateway.metrics.sessionSeconds.count === 1, 3000, "session closed");

    const res = await call(app, "GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const { types, samples } = parse(res.json);
    const s = (k: string) => samples.get(k);
    expect(s("botgate_connections_current")).toBe(1);
    expect(s("botgate_connections_accepted_total")).toBe(2);
    expect(s('botgate_connections_closed_total{reason="kicked"}')).toBe(1);
    expect(s("botgate_handshakes_ok_total")).toBe(2);
    expect(s('botgate_sessions_current{status="approved"}')).toBe(1);
    expect(s(`botgate_reconnects_total{bot="${BOT.name}",device="dev-m"}`)).toBe(1);
    expect(s('botgate_messages_in_total{event="analyze"}')).toBe(2);
    expect(s('botgate_messages_in_total{event="ping"}')).toBe(1);
    expect(s('botgate_messages_out_total{event="messageResponse"}')).toBe(1);
    expect([...samples.keys()].some((k) => k.startsWith("botgate_auth_failures_total{reason="))).toBe(true);
    expect(s("botgate_bytes_in_total")!).toBeGreaterThan(500);
    expect(s("botgate_bytes_out_total")!).toBeGreaterThan(100);
    expect(s('botgate_ping_rtt_ms_bucket{le="+Inf"}')).toBe(1);
    expect(s('botgate_ping_rtt_ms_bucket{le="5"}')).toBe(0);
    expect(s("botgate_ping_rtt_ms_count")).toBe(1);
    expect(s("botgate_session_duration_seconds_count")).toBe(1);
    expect(s("botgate_open_sockets")).toBe(1);
    expect(s('botgate_tracked_resources{kind="session"}')).toBe(1);
    expect(s("botgate_process_resident_memory_bytes")!).toBeGreaterThan(1e6);
    expect(s("botgate_process_heap_used_bytes")!).toBeGreaterThan(0);
    for (const name of ["botgate_queue_depth", "botgate_jobs_dropped_total", "botgate_jobs_timeouts_total", "botgate_jobs_zombies", "botgate_resource_leaks_total", "botgate_job_duration_ms", "botgate_takeovers_total"]) {
      expect(types.has(name)).toBe(true);
    }
    expect(types.get("botgate_ping_rtt_ms")).toBe("histogram");
  });

  test("event-loop lag is exported when a sampler runs (real startApp wiring)", async () => {
    fx.gw = await startTestGateway({}, { admin: true });
    const res = await fetch(`${fx.gw.adminUrl}/metrics`, { headers: { authorization: `Bearer ${fx.gw.config.admin.token}` } });
    const { types } = parse(await res.text());
    expect(types.get("botgate_event_loop_lag_ms")).toBe("gauge");
    expect(types.get("botgate_event_loop_lag_histogram_ms")).toBe("histogram");
  });
});

describe("PromWriter", () => {
  test("escapes label values and writes cumulative histograms", () => {
    const c = new LabeledCounter("device");
    c.inc('a"b\\c\nd', 2);
    const text = new PromWriter()
      .labeled("x_total", "help", c)
      .histogram("h", "help", { buckets: [1, 10], cumulative: [1, 3], sum: 42, count: 4 })
      .text();
    expect(text).toContain('x_total{device="a\\"b\\\\c\\nd"} 2');
    expect(text).toContain('h_bucket{le="1"} 1\nh_bucket{le="10"} 3\nh_bucket{le="+Inf"} 4\nh_sum 42\nh_count 4');
    parse(text);
  });
});
