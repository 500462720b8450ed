/** GET /metrics: every gateway, pipeline, tracker and process figure in Prometheus text. */
import { RESOURCE_KINDS } from "../resources/tracker.ts";
import type { AdminDeps } from "./deps.ts";
import { PromWriter } from "./prom.ts";
import { processMemory } from "./process.ts";

export function renderMetrics(deps: AdminDeps): string {
  const g = deps.gateway;
  const m = g.metrics;
  const w = new PromWriter();
  const perStatus = new Map<string, number>();
  for (const s of g.sessions.values()) perStatus.set(s.status, (perStatus.get(s.status) ?? 0) + 1);

  w.gauge("botgate_uptime_seconds", "Seconds since the admin API started.", Math.round((Date.now() - (deps.startedAt ?? Date.now())) / 1000));
  // connections and sessions
  w.gauge("botgate_connections_current", "Open phone connections, including ones still in the handshake.", g.connections.size);
  w.family("botgate_sessions_current", "gauge", "Sessions past the handshake, by device status.", [...perStatus].map(([status, v]) => [{ status }, v]));
  w.counter("botgate_connections_accepted_total", "Phone connections accepted.", m.connectionsAccepted.value);
  w.labeled("botgate_connections_closed_total", "Phone connections closed, by reason.", m.connectionsClosed);
  w.counter("botgate_handshakes_ok_total", "Successful handshakes.", m.handshakesOk.value);
  w.labeled("botgate_handshakes_failed_total", "Refused or failed handshakes, by reason.", m.handshakesFailed);
  w.counter("botgate_takeovers_total", "Sessions replaced by a newer connection of the same device.", m.takeovers.value);
  w.family(
    "botgate_reconnects_total",
    "counter",
    "Handshakes per device (bounded to 10000 devices).",
    [...m.reconnects.values].map(([key, v]) => {
      const i = key.indexOf("\u0000");
      return [{ bot: key.slice(0, i), device: key.slice(i + 1) }, v];
    }),
  );
  // traffic
  w.labeled("botgate_messages_in_total", "Lines received from phones, by event.", m.messagesIn);
  w.labeled("botgate_messages_out_total", "Lines sent to phones, by event.", m.messagesOut);
  w.labeled("botgate_auth_failures_total", "Rejected auth blocks, by reason.", m.authFailures);
  w.labeled("botgate_protocol_errors_total", "Protocol errors answered, by code.", m.protocolErrors);
  w.counter("botgate_dropped_not_approved_total", "Chat messages dropped because the device is not approved.", m.droppedNotApproved.value);
  w.counter("botgate_bytes_in_total", "Bytes received from phones.", m.bytesIn.value);
  w.counter("botgate_bytes_out_total", "Bytes of lines encoded for phones (after a line is queued, at the flush that joins it into a socket write).", m.bytesOut.value);
  let queued = 0;
  for (const s of g.connections) queued += s.writer.pendingBytes;
  w.gauge("botgate_outbound_queued_bytes", "Bytes waiting in per-connection write queues.", queued);
  w.fromHistogram("botgate_ping_rtt_ms", "Ping round-trip time, ms.", m.pingRttMs);
  w.fromHistogram("botgate_session_duration_seconds", "Lifetime of closed sessions, seconds.", m.sessionSeconds);
  // pipeline
  const p = g.dispatcher?.stats();
  if (p) {
    w.gauge("botgate_queue_depth", "Jobs waiting in the pipeline queue.", p.queueDepth);
    w.gauge("botgate_queue_capacity", "Pipeline queue capacity.", p.queueCapacity);
    w.counter("botgate_jobs_enqueued_total", "Jobs accepted into the queue.", p.enqueued);
    w.family("botgate_jobs_dropped_total", "counter", "Jobs dropped before work started, by reason (expired, queue_full, ...).", Object.entries(p.dropped).map(([reason, v]) => [{ reason }, v]));
    w.counter("botgate_jobs_started_total", "Jobs started.", p.started);
    w.counter("botgate_jobs_completed_total", "Jobs completed.", p.completed);
    w.counter("botgate_jobs_failed_total", "Jobs whose handler threw.", p.failed);
    w.counter("botgate_jobs_timeouts_total", "Jobs that hit their deadline.", p.timeouts);
    w.gauge("botgate_jobs_in_flight", "Jobs running now.", p.inFlight);
    w.gauge("botgate_jobs_zombies", "Timed-out handlers still running.", p.zombies.count);
    w.gauge("botgate_jobs_zombies_cap", "Zombie cap.", p.zombies.cap);
    w.histogram("botgate_job_duration_ms", "Job duration, ms.", p.jobDurationMs);
  }
  // resources and process
  const counts = g.tracker.counts();
  w.gauge("botgate_open_sockets", "Phone sockets registered in the resource tracker.", counts.socket);
  w.family("botgate_tracked_resources", "gauge", "Live tracked resources (timers, intervals, tasks, ...), by kind.", RESOURCE_KINDS.map((kind) => [{ kind }, counts[kind]]));
  w.counter("botgate_resource_leaks_released_total", "Resources that outlived their owner and were released by the sweeper.", g.tracker.leaksReleased);
  if (deps.sweeper) w.labeled("botgate_resource_leaks_total", "Leaks found by the sweeper, by kind.", deps.sweeper.leaks);
  if (deps.loopLag) {
    w.gauge("botgate_event_loop_lag_ms", "Event-loop lag of the latest sample, ms.", round(deps.loopLag.lastMs));
    w.gauge("botgate_event_loop_lag_max_ms", "Worst event-loop lag since start, ms.", round(deps.loopLag.maxMs));
    w.fromHistogram("botgate_event_loop_lag_histogram_ms", "Event-loop lag samples, ms.", deps.loopLag.histogram);
  }
  const mem = (deps.memory ?? processMemory)();
  w.gauge("botgate_process_resident_memory_bytes", "Resident set size.", mem.rss);
  w.gauge("botgate_process_heap_used_bytes", "JS heap in use.", mem.heapUsed);
  w.gauge("botgate_process_heap_total_bytes", "JS heap reserved.", mem.heapTotal);
  return w.text();
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
