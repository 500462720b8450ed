import type { DeviceInfo } from "../bot/types.ts";
import type { Config } from "../config/options.ts";
import type { AuthPrefix } from "../protocol/auth.ts";
import { BotgateError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import * as encode from "../protocol/encode.ts";
import type { EventFrame, HandshakeFrame } from "../protocol/frames.ts";
import { decodeEvent, decodeHandshake, parseLine } from "../protocol/decode.ts";
import { Scope, type ScopedTimer, type TimerTarget } from "../resources/scope.ts";
import { monotonicNow } from "../resources/timer-wheel.ts";
import { nextResourceId, type ResourceTracker, type Tracked } from "../resources/tracker.ts";
import { deviceKey } from "../store/retention.ts";
import type { DeviceStatus } from "../store/types.ts";
import type { Connection, ConnectionHandler } from "../transport/types.ts";
import { LineFramer, type LineSink } from "../wasm/core.ts";
import { WriteQueue } from "./write-queue.ts";

/** What a session needs from the gateway that owns it. */
export interface SessionHost {
  readonly config: Config;
  readonly metrics: GatewayMetrics;
  readonly tracker: ResourceTracker;
  readonly log: Logger;
  onHandshake(session: Session, frame: HandshakeFrame): Promise<void>;
  onEvent(session: Session, frame: EventFrame): void;
  /** Two or more events (or their decode errors) from one read, in arrival order. */
  onEvents(session: Session, items: ReadonlyArray<EventFrame | BotgateError>): void;
  onClosed(session: Session): void;
}

export type SessionState = "handshake" | "authenticating" | "open" | "closing" | "closed";

export type CloseReason =
  | "peer_closed"
  | "error"
  | "takeover"
  | "takeover_unproven"
  | "handshake_timeout"
  | "handshake_refused"
  | "idle"
  | "slow_consumer"
  | "auth_failures"
  | "kicked"
  | "device_refused"
  | "shutdown";

/**
 * A takeover newcomer's deadline to prove the secret (awaitProof() to proven()). Kept
 * beside the sessions, not in them: few sessions ever have one, and a field more per
 * Session costs every idle phone (memory per phone is a target).
 */
const proofTimers = new WeakMap<Session, ScopedTimer>();

/** Lines pipelined behind the handshake wait here (read is paused meanwhile). */
const MAX_PENDING_LINES = 1000;

/**
 * One phone connection. Owns its framer, write queue and timers (through its
 * Scope); all of them die with it however it ends.
 */
export class Session implements ConnectionHandler, LineSink, TimerTarget, Tracked {
  readonly id = nextResourceId();
  readonly kind = "session";
  readonly conn: Connection;
  readonly scope: Scope;
  readonly writer: WriteQueue;
  readonly connectedAt = Date.now();
  state: SessionState = "handshake";
  botName = "";
  deviceId = "";
  /** deviceKey(botName, deviceId): set by the gateway when the handshake reaches the store (so operator actions find a joining phone); the registry's key string. */
  key = "";
  status: DeviceStatus = "pending";
  /** From the handshake line (only these two of its fields are kept: memory per phone is a target). */
  clientVersion = "";
  clientInfo: string | null = null;
  openedAt = 0;
  lastMonitoring: Record<string, unknown> | null = null;
  lastRttMs: number | null = null;
  lastPingAt = 0;
  bytesIn = 0;
  linesIn = 0;
  linesOut = 0;
  authFailures = 0;
  notApprovedNotified = false;
  /** The auth verifier's memo: this phone's last prefix state (see AuthMemo). */
  authPrefix: AuthPrefix | null = null;
  closeReason: CloseReason | null = null;
  readonly #host: SessionHost;
  readonly #framer: LineFramer;
  #pendingLines: Uint8Array[] | null = null;
  /** Events decoded during the current read, handed over together when it ends (null outside a read; every
   *  line() after the handshake line runs inside one: data() or resumeAfterHandshake()). */
  #batch: Array<EventFrame | BotgateError> | null = null;
  /** The handshake deadline until open(), then the heartbeat (ping + idle). */
  #timer: ScopedTimer;
  #lastInboundAt = 0;
  /** The same moment on the timer wheel's monotonic clock: the idle deadline runs from it. */
  #lastReadAt = 0;
  #deviceInfo: DeviceInfo | null = null;
  #nextPingAt = 0;

  constructor(conn: Connection, host: SessionHost) {
    this.conn = conn;
    this.#host = host;
    const cfg = host.config;
    // Per-phone memory is a target (<= 4 KiB per idle phone): timers and the
    // write queue call methods of this object instead of closures.
    this.scope = new Scope(this, host.tracker);
    this.scope.own("socket", "phone", conn);
    host.tracker.add(this);
    this.#framer = new LineFramer(cfg.maxLineBytes);
    this.writer = new WriteQueue(conn, cfg.outboundCapBytes, this);
    this.#timer = this.scope.timeout(cfg.handshakeTimeoutMs, this, "handshake-deadline");
  }

  /** When the current (or last) read arrived, epoch ms: the receive time of its lines. */
  get lastInboundAt(): number {
    return this.#lastInboundAt;
  }

  /** What bot handlers see of this phone; built on first use, shared by its messages, frozen. */
  get deviceInfo(): DeviceInfo {
    return (this.#deviceInfo ??= Object.freeze({ botName: this.botName, deviceId: this.deviceId, address: this.address, clientVersion: this.clientVersion }));
  }

  /** "ip:port"; built per use, not kept (logs and admin views need it rarely; memory per phone is a target). */
  get address(): string {
    return `${this.conn.remoteAddress}:${this.conn.remotePort}`;
  }

  get scopeName(): string {
    return `session#${this.id}`;
  }

  // ---- Tracked (the session itself is a tracked resource) ------------------

  get label(): string {
    return this.address;
  }
  get createdAt(): number {
    return this.connectedAt;
  }
  ownerName(): string {
    return "gateway";
  }
  ownerAlive(): boolean {
    return this.state !== "closed";
  }
  reclaim(): void {
    this.conn.destroy();
  }



  get isOpen(): boolean {
    return this.state === "open";
  }

  /** Handshook while another live session holds this device; not routed to until a signed event arrives. */
  get awaitingProof(): boolean {
    return proofTimers.has(this);
  }

  // ---- ConnectionHandler -------------------------------------------------

  data(chunk: Uint8Array): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.bytesIn += chunk.length;
    this.#lastInboundAt = Date.now();
    this.#lastReadAt = monotonicNow();
    this.#host.metrics.bytesIn.inc(chunk.length);
    this.#batch = [];
    this.#framer.push(chunk, this);
    this.#flush();
    this.#batch = null;
  }

  drain(): void {
    this.writer.drain();
  }

  closed(error?: Error): void {
    if (this.state === "closed") return;
    if (this.closeReason === null) this.closeReason = error ? "error" : "peer_closed";
    this.state = "closed";
    this.writer.close();
    this.#framer.reset();
    this.#pendingLines = null;
    this.scope.close(this.closeReason);
    this.#host.tracker.remove(this);
    const m = this.#host.metrics;
    m.connectionsClosed.inc(this.closeReason);
    if (this.openedAt > 0) m.sessionSeconds.observe((Date.now() - this.openedAt) / 1000);
    this.#host.onClosed(this);
  }

  // ---- LineSink ----------------------------------------------------------

  line(bytes: Uint8Array): void {
    if (this.state === "closing" || this.state === "closed") return;
    if (this.#pendingLines !== null) {
      if (this.#pendingLines.length >= MAX_PENDING_LINES) return this.close("handshake_refused", false);
      this.#pendingLines.push(bytes.slice()); // the framer's view is only valid during this call
      return;
    }
    this.linesIn++;
    const handshake = this.state === "handshake";
    try {
      const obj = parseLine(bytes);
      if (handshake) this.#startHandshake(decodeHandshake(obj));
      else this.#batch!.push(decodeEvent(obj));
    } catch (err) {
      if (!handshake && err instanceof BotgateError) this.#batch!.push(err);
      else {
        this.#flush();
        this.protocolError(err);
      }
    }
  }

  oversize(byteLength: number): void {
    this.#flush();
    this.protocolError(new BotgateError("LINE_TOO_LONG", `line longer than ${this.#host.config.maxLineBytes} bytes discarded (${byteLength}+ bytes)`));
  }

  /** Hands the events collected so far in this read to the host: one alone as before, several together. */
  #flush(): void {
    const batch = this.#batch;
    if (batch === null || batch.length === 0) return;
    this.#batch = []; // a fresh array is cheaper here than emptying this one (length = 0) in JavaScriptCore
    if (this.state !== "closing" && this.state !== "closed") {
      const only = batch.length === 1 ? batch[0]! : null;
      if (only === null) this.#host.onEvents(this, batch);
      else if (only instanceof BotgateError) this.protocolError(only);
      else {
        try {
          this.#host.onEvent(this, only);
        } catch (err) {
          this.protocolError(err);
        }
      }
    }
  }

  // ---- actions -----------------------------------------------------------

  /** Queue one line (JSON text from protocol/encode, without its LF). */
  send(line: string, event: string): boolean {
    if (this.state === "closed") return false;
    const ok = this.writer.writeLine(line);
    if (ok) {
      this.linesOut++;
      this.#host.metrics.messagesOut.inc(event);
    }
    return ok;
  }

  /** The write queue encoded lines of ours (counted when encoded, so the figure is exact bytes). */
  onEncoded(bytes: number): void {
    this.#host.metrics.bytesOut.inc(bytes);
  }

  sendError(err: BotgateError): void {
    this.send(encode.errorEvent(err.wireCode, err.message, Date.now()), "error");
  }

  /** Bad input is answered and counted; it never closes other sessions. */
  protocolError(err: unknown): void {
    const e = err instanceof BotgateError ? err : new BotgateError("INTERNAL", "internal error", { cause: err });
    this.#host.metrics.protocolErrors.inc(e.code);
    if (e.code === "INTERNAL") this.#host.log.error("session error", { session: this.id, error: e.cause ?? e });
    if (this.state === "handshake") this.refuseHandshake(e);
    else this.sendError(e);
  }

  /** The error, then handshakeComplete(success: false), then close once they are flushed. */
  refuseHandshake(err: BotgateError): void {
    this.sendError(err);
    this.send(encode.handshakeComplete(false, false, err.message), "handshakeComplete");
    this.close("handshake_refused", true);
  }

  /** Called by the gateway once the device of handshake `h` is registered and allowed. */
  open(h: HandshakeFrame, status: DeviceStatus): void {
    const cfg = this.#host.config;
    this.botName = h.botName;
    this.deviceId = h.deviceId;
    if (this.key === "") this.key = deviceKey(h.botName, h.deviceId); // the gateway set it from this handshake
    this.status = status;
    this.state = "open";
    this.clientVersion = h.version;
    this.clientInfo = h.deviceInfo;
    const now = Date.now();
    this.openedAt = now;
    this.#lastInboundAt = now;
    this.#lastReadAt = monotonicNow();
    this.#nextPingAt = this.#lastReadAt + cfg.pingIntervalMs;
    this.#timer.stop();
    // One timer per phone: pings every pingIntervalMs, closes after idleTimeoutMs
    // without an inbound line (config guarantees idle > ping interval).
    this.#timer = this.scope.interval(cfg.pingIntervalMs, this, "heartbeat");
  }

  /**
   * The device already has a live session: this one must send a validly signed
   * event within `ms` (the caller invites one with a ping), or it is closed.
   */
  awaitProof(ms: number): void {
    if (!proofTimers.has(this) && this.state === "open") proofTimers.set(this, this.scope.timeout(ms, this, "takeover-proof-deadline"));
  }

  /** A signed event arrived: the proof deadline ends with it. */
  proven(): void {
    proofTimers.get(this)?.stop();
    proofTimers.delete(this);
  }

  /** Timer callbacks, told apart by their (constant) labels. */
  onTimer(t: ScopedTimer): void {
    if (t.label === "heartbeat") this.#heartbeat(t);
    else if (t.label === "handshake-deadline") this.#handshakeTimeout();
    else if (t.label === "takeover-proof-deadline") this.close("takeover_unproven", false);
    else this.conn.destroy(); // flush-deadline
  }

  /** The write queue overflowed: the phone stopped reading. */
  onWriteOverflow(): void {
    this.close("slow_consumer", false);
  }

  #heartbeat(t: ScopedTimer): void {
    const cfg = this.#host.config;
    const now = monotonicNow();
    const idleAt = this.#lastReadAt + cfg.idleTimeoutMs;
    if (now >= idleAt) return this.close("idle", false);
    if (now >= this.#nextPingAt) {
      this.send(encode.ping(this.botName, Date.now()), "ping"); // the phone echoes the wall clock back (RTT)
      this.#nextPingAt = now + cfg.pingIntervalMs;
    }
    t.due = Math.min(this.#nextPingAt, idleAt);
  }

  /** Replay lines that arrived behind the handshake, then read again. */
  resumeAfterHandshake(): void {
    const lines = this.#pendingLines;
    this.#pendingLines = null;
    if (lines) {
      this.#batch = [];
      for (const l of lines) this.line(l);
      this.#flush();
      this.#batch = null;
    }
    if (this.state !== "closing" && this.state !== "closed") this.conn.resume();
  }

  /**
   * Close once. With `flush`, queued bytes are sent first (bounded by
   * takeoverFlushMs), then FIN; otherwise the socket is destroyed now.
   */
  close(reason: CloseReason, flush: boolean): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.closeReason = reason;
    this.state = "closing";
    this.#pendingLines = null;
    this.#timer.stop();
    if (!flush || this.writer.idle) {
      if (flush) this.conn.end();
      else this.conn.destroy();
      return;
    }
    this.scope.timeout(this.#host.config.takeoverFlushMs, this, "flush-deadline");
    this.writer.whenFlushed().then(() => {
      if (this.state === "closing") this.conn.end();
    });
  }

  #startHandshake(frame: HandshakeFrame): void {
    this.state = "authenticating";
    this.#pendingLines = [];
    this.conn.pause();
    this.#host.onHandshake(this, frame).then(
      () => {
        if (this.state === "open") this.resumeAfterHandshake();
      },
      (err) => {
        this.#host.log.error("handshake failed", { session: this.id, error: err });
        this.close("error", false);
      },
    );
  }

  #handshakeTimeout(): void {
    if (this.state !== "handshake" && this.state !== "authenticating") return;
    this.#host.metrics.handshakesFailed.inc("timeout");
    this.sendError(new BotgateError("HANDSHAKE_TIMEOUT", "no handshake within the deadline"));
    this.close("handshake_timeout", true);
  }
}
