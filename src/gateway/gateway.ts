import type { BotHandler, ReplyItem } from "../bot/types.ts";
import type { BotOptions, Config } from "../config/options.ts";
import { BotgateError, toBotgateError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { RateGate } from "../log/rate-gate.ts";
import { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import { AuthVerifier, PreparedAuth } from "../protocol/auth.ts";
import * as encode from "../protocol/encode.ts";
import type { AnalyzeFrame, EventFrame, HandshakeFrame, PingFrame } from "../protocol/frames.ts";
import { Scope } from "../resources/scope.ts";
import { ResourceTracker } from "../resources/tracker.ts";
import { RoomDirectory } from "./room-directory.ts";
import { Session, type SessionHost } from "../session/session.ts";
import { deviceKey } from "../store/retention.ts";
import { handshake as validateHandshake } from "../store/validate.ts";
import { PingWriter } from "../store/ping-writer.ts";
import type { DeviceStatus, DeviceStore, HandshakeUpsert } from "../store/types.ts";
import type { Connection, ConnectionHandler } from "../transport/types.ts";
import type { Dispatcher, Outbound, ReplyOrigin } from "../pipeline/types.ts";

/** An event's auth block after the batched part of verification: checked and MAC verdict known (`macOk`), or failed a check. */
type PreVerified = PreparedAuth | { error: unknown };

const REFUSED: ReadonlySet<DeviceStatus> = new Set(["blocked", "denied", "revoked"]);

export interface GatewayDeps {
  config: Config;
  store: DeviceStore;
  log: Logger;
  tracker?: ResourceTracker;
  metrics?: GatewayMetrics;
}

export interface PushRequest {
  botName: string;
  room: string;
  channelId: string | null;
  items: ReplyItem[];
  deviceId?: string;
}

/**
 * The protocol brain: handshake, auth, routing. Owns the session registry
 * (keyed by bot + device, never by address) and hands chat messages to the
 * dispatcher. Knows nothing about the runtime: adapters feed it Connections.
 */
export class Gateway implements SessionHost, Outbound {
  readonly config: Config;
  readonly store: DeviceStore;
  /** Ping history goes to the store in batches (write-behind, bounded). */
  readonly pingWriter: PingWriter;
  readonly log: Logger;
  readonly tracker: ResourceTracker;
  readonly metrics: GatewayMetrics;
  readonly auth: AuthVerifier;
  readonly scope: Scope;
  readonly sessions = new Map<string, Session>();
  /** Every live connection, including ones not yet past the handshake. */
  readonly connections = new Set<Session>();
  readonly bots: Map<string, BotOptions>;
  dispatcher: Dispatcher | null = null;
  /** channelId -> room name seen in chat, for pushes addressed by channel (admin API). */
  readonly rooms = new RoomDirectory();
  #accepting = true;
  /** A refused phone retries every 4 s forever: each (device, reason) is logged once a minute. */
  readonly #refusalLogs = new RateGate(60_000, 10_000);
  /** Replays never close a connection (genuine phones make them), so their log lines are throttled per device and reason. */
  readonly #authFailureLogs = new RateGate(10_000, 10_000);
  #allClosed: Array<() => void> = [];
  /** The shutdown in progress: a second call gets the same one. */
  #stopping: Promise<void> | null = null;
  /** Sessions already told that their messages are refused while the pipeline drains (a WeakSet, not a Session field: one more field costs every idle phone, see proofTimers in session.ts). */
  readonly #toldDraining = new WeakSet<Session>();
  /** An operator's status change that arrived while this handshake awaited the store: it wins over what the store returned. */
  readonly #statusWhileJoining = new WeakMap<Session, DeviceStatus>();
  /** A takeover candidate's handshake fields: written to the store only once it proves the secret. */
  readonly #unprovenFields = new WeakMap<Session, HandshakeUpsert>();
  /** Deferred handshake-field writes still out: shutdown waits for them (each is bounded by the store's own deadline). */
  readonly #fieldWrites = new Set<Promise<void>>();

  constructor(deps: GatewayDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.log = deps.log;
    this.pingWriter = new PingWriter(this.store, {}, this.log);
    this.tracker = deps.tracker ?? new ResourceTracker();
    this.metrics = deps.metrics ?? new GatewayMetrics();
    this.bots = new Map(deps.config.bots.map((b) => [b.name, b]));
    this.auth = new AuthVerifier(deps.config.bots, deps.config.authWindowMs);
    this.scope = new Scope("gateway", this.tracker);
    this.scope.interval(Math.min(60_000, deps.config.authWindowMs), () => this.auth.prune(Date.now()), "replay-prune");
  }

  /** Adapter entry point: a new TCP connection. */
  accept(conn: Connection): ConnectionHandler {
    const s = new Session(conn, this);
    this.connections.add(s);
    this.metrics.connectionsAccepted.inc();
    if (!this.#accepting) this.#sendShutdown(s);
    return s;
  }

  // ---- SessionHost -------------------------------------------------------

  async onHandshake(s: Session, h: HandshakeFrame): Promise<void> {
    const bot = this.bots.get(h.botName);
    if (bot === undefined) return this.#refuse(s, h, new BotgateError("UNKNOWN_BOT", `bot "${h.botName}" is not configured on this server`), "unknown_bot");
    if (h.deviceId === "unknown" && !this.config.allowUnknownDeviceId) {
      return this.#refuse(s, h, new BotgateError("DEVICE_ID_UNKNOWN", "the phone could not read its device id; set allowUnknownDeviceId to accept it"), "device_id_unknown");
    }
    // Known before the store call, so an operator's action can find this phone while it joins.
    s.key = deviceKey(h.botName, h.deviceId);
    const fields: HandshakeUpsert = { botName: h.botName, deviceId: h.deviceId, ipAddress: storableAddress(s.conn.remoteAddress), clientType: h.clientType, clientVersion: h.version, clientInfo: h.deviceInfo };
    const initial: DeviceStatus = bot.autoApprove ? "approved" : "pending";
    let status: DeviceStatus;
    let written = false;
    try {
      // The handshake is unsigned: while the device has a live session, a newcomer (maybe an
      // impostor who only knows the id) reads the status and overwrites nothing until proven.
      let known: { status: DeviceStatus } | null = null;
      if (this.sessions.get(s.key)?.isOpen) {
        validateHandshake(fields); // the upsert's checks: a newcomer is refused for the same fields either way
        known = await this.store.get(h.botName, h.deviceId);
      }
      if (known !== null) status = known.status;
      else {
        status = (await this.store.upsertOnHandshake(fields, initial)).status;
        written = true;
      }
    } catch (err) {
      const e = toBotgateError(err, "STORE_UNAVAILABLE");
      if (e.code !== "BAD_REQUEST") this.log.error("device store failed during handshake", { bot: h.botName, device: h.deviceId, error: err });
      if (s.state !== "authenticating") return; // timed out (already counted and answered) or gone meanwhile
      // The store refused the phone's fields (e.g. a device id with surrounding spaces): the phone's fault.
      if (e.code === "BAD_REQUEST") return this.#refuse(s, h, new BotgateError("HANDSHAKE_INVALID", e.message, { cause: err }), "handshake_invalid");
      // Fail closed: no store, no session.
      return this.#refuse(s, h, e, "store_unavailable");
    }
    if (s.state !== "authenticating") return; // timed out or peer left while we waited
    status = this.#statusWhileJoining.get(s) ?? status;
    if (REFUSED.has(status)) return this.#refuse(s, h, new BotgateError("DEVICE_REFUSED", `device is ${status}`), `device_${status}`);

    s.open(h, status);
    const key = s.key;
    this.metrics.handshakesOk.inc();
    this.metrics.noteReconnect(key);
    const approved = status === "approved";
    s.send(encode.handshakeComplete(true, approved, approved ? "device approved" : "device registered, waiting for approval"), "handshakeComplete");
    const current = this.sessions.get(key);
    if (current === undefined || !current.isOpen) {
      this.sessions.set(key, s);
      if (!written) this.#writeFields(fields, initial); // the live session it deferred to has gone meanwhile
    } else {
      if (!written) this.#unprovenFields.set(s, fields);
      // The handshake is unsigned: anyone who saw a device id could send it.
      // A live session is only taken over once the newcomer proves it holds
      // the bot's secret with a signed event; an immediate ping invites one.
      s.awaitProof(this.config.handshakeTimeoutMs);
      s.send(encode.ping(h.botName, Date.now()), "ping");
    }
    this.log.info("handshake", { bot: h.botName, device: h.deviceId, address: s.address, version: h.version, status });
  }

  onEvent(s: Session, f: EventFrame): void {
    this.#event(s, f, undefined);
  }

  /**
   * The events (or decode errors) of one read, in arrival order. All their
   * MACs are checked with one WASM batch call first; everything else (replay
   * check, takeover proof, errors, dispatch) then runs event by event, in order.
   */
  onEvents(s: Session, items: ReadonlyArray<EventFrame | BotgateError>): void {
    const now = s.lastInboundAt;
    const pre: Array<PreVerified | undefined> = new Array(items.length);
    const batch: PreparedAuth[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it instanceof BotgateError || it.kind === "unknown") continue;
      try {
        // Chat events keep a prefix state for their session; pings alone (an idle phone) do not.
        const p = this.auth.check(s.botName, s.deviceId, it.auth, now, s, it.kind === "analyze");
        pre[i] = p;
        batch.push(p);
      } catch (err) {
        pre[i] = { error: err };
      }
    }
    if (batch.length > 0) this.auth.verifyPrepared(batch); // sets each item's macOk
    for (let i = 0; i < items.length; i++) {
      if (s.state === "closing" || s.state === "closed") return;
      const it = items[i]!;
      try {
        if (it instanceof BotgateError) s.protocolError(it);
        else this.#event(s, it, pre[i]);
      } catch (err) {
        s.protocolError(err);
      }
    }
  }

  onClosed(s: Session): void {
    this.connections.delete(s);
    if (s.botName && this.sessions.get(s.key) === s) this.sessions.delete(s.key);
    if (s.openedAt > 0) this.log.info("session closed", { bot: s.botName, device: s.deviceId, address: s.address, reason: s.closeReason });
    if (this.connections.size === 0 && this.#allClosed.length > 0) {
      const w = this.#allClosed;
      this.#allClosed = [];
      for (const r of w) r();
    }
  }

  // ---- Outbound ----------------------------------------------------------

  /** Send replies to the origin device's current session (or, if configured, another approved device of the bot). */
  deliver(origin: ReplyOrigin, items: ReplyItem[]): boolean {
    if (items.length === 0) return true;
    const s = this.#route(origin);
    if (s === null) return false;
    for (const it of items) {
      const text = typeof it === "string" ? it : it.text;
      const mediaWaitTime = typeof it === "string" ? undefined : it.mediaWaitTime;
      if (!s.send(encode.messageResponse({ room: origin.room, text, channelId: origin.channelId, mediaWaitTime }), "messageResponse")) return false;
    }
    return true;
  }

  /** The pipeline dropped a message of this device before work started (queue full); the phone ignores the event. */
  notifyDropped(origin: ReplyOrigin, error: BotgateError): void {
    const s = this.sessions.get(origin.key);
    if (s?.isOpen) s.sendError(error);
  }

  #route(origin: ReplyOrigin): Session | null {
    const own = this.sessions.get(origin.key);
    if (own?.isOpen) return own;
    if (!this.bots.get(origin.botName)?.replyFallback) return null;
    return this.approvedSessionOf(origin.botName);
  }

  approvedSessionOf(botName: string): Session | null {
    for (const s of this.sessions.values()) if (s.botName === botName && s.isOpen && s.status === "approved") return s;
    return null;
  }

  // ---- operator actions (admin API) --------------------------------------

  /** False once shutdown() has begun. */
  get accepting(): boolean {
    return this.#accepting;
  }

  getSession(botName: string, deviceId: string): Session | undefined {
    return this.sessions.get(deviceKey(botName, deviceId));
  }

  /**
   * Every live connection of a device: its registered session, and also one that
   * is not registered yet (a handshake awaiting the store, a newcomer that has
   * not proven the secret). O(connections); operator actions are rare.
   */
  #connectionsOf(botName: string, deviceId: string): Session[] {
    const key = deviceKey(botName, deviceId);
    const out: Session[] = [];
    for (const s of this.connections) if (s.key === key && (s.state === "authenticating" || s.state === "open")) out.push(s);
    return out;
  }

  /** Closes every connection of the device; false if it had none. */
  kick(botName: string, deviceId: string, reason: string): boolean {
    const list = this.#connectionsOf(botName, deviceId);
    if (list.length === 0) return false;
    this.log.info("session kicked", { bot: botName, device: deviceId, reason });
    for (const s of list) s.close("kicked", true);
    return true;
  }

  /** A status change from the admin API takes effect at once on every connection of the device, joining ones too. */
  applyDeviceStatus(botName: string, deviceId: string, status: DeviceStatus): void {
    for (const s of this.#connectionsOf(botName, deviceId)) {
      if (s.state === "authenticating") {
        this.#statusWhileJoining.set(s, status);
        continue;
      }
      s.status = status;
      s.notApprovedNotified = false;
      if (REFUSED.has(status)) {
        s.sendError(new BotgateError("DEVICE_REFUSED", `device is ${status}`));
        s.close("device_refused", true);
      }
    }
  }

  // ---- lifecycle ---------------------------------------------------------

  /**
   * Stop taking phones and new work; let the pipeline answer what it accepted (up to
   * shutdownDrainMs, sessions stay open); then close the pipeline (nothing starts after
   * the phones are told goodbye) and every session (flushing), and resolve when all are
   * gone or `deadlineMs` passes. A second call joins the first (its `deadlineMs` is unused).
   */
  shutdown(deadlineMs = this.config.takeoverFlushMs + 1000): Promise<void> {
    return (this.#stopping ??= this.#shutdown(deadlineMs));
  }

  async #shutdown(deadlineMs: number): Promise<void> {
    this.#accepting = false;
    if (this.config.shutdownDrainMs > 0 && this.dispatcher !== null) {
      // Phones still in their handshake have handed over nothing yet: they go now.
      for (const s of [...this.connections]) if (s.state === "handshake" || s.state === "authenticating") this.#sendShutdown(s);
      const before = this.dispatcher.stats();
      if (before.queueDepth > 0 || before.inFlight > 0 || before.replies.pending > 0) {
        this.log.info("shutdown: draining the pipeline", { queued: before.queueDepth, inFlight: before.inFlight, pendingReplies: before.replies.pending, deadlineMs: this.config.shutdownDrainMs });
      }
      if (!(await this.dispatcher.drain(this.config.shutdownDrainMs))) {
        const left = this.dispatcher.stats();
        this.log.warn("shutdown: drain deadline passed; what is left is aborted", { queued: left.queueDepth, inFlight: left.inFlight, pendingReplies: left.replies.pending });
      }
    }
    // What the drain did not finish is aborted now: a job started after the goodbye could
    // only run its side effects (webhooks) for a reply that can no longer be delivered.
    await this.dispatcher?.close();
    for (const s of [...this.connections]) this.#sendShutdown(s);
    if (this.connections.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#allClosed.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, deadlineMs))),
      ]);
      clearTimeout(timer);
      for (const s of [...this.connections]) s.conn.destroy();
    }
    await this.pingWriter.close();
    await Promise.all([...this.#fieldWrites]); // they never reject
    this.scope.close("shutdown");
    this.auth.dispose();
  }

  #sendShutdown(s: Session): void {
    s.sendError(new BotgateError("SHUTTING_DOWN", "server is shutting down"));
    s.close("shutdown", true);
  }

  // ---- events --------------------------------------------------------------

  #event(s: Session, f: EventFrame, pre: PreVerified | undefined): void {
    if (f.kind === "analyze") return this.#analyze(s, f, pre);
    if (f.kind === "ping") return this.#ping(s, f, pre);
    this.metrics.messagesIn.inc("unknown");
    s.protocolError(new BotgateError("UNKNOWN_EVENT", `unknown event "${f.event}"`));
  }

  #verify(s: Session, auth: unknown, pre: PreVerified | undefined, chat: boolean): boolean {
    try {
      if (pre === undefined) this.auth.verify(s.botName, s.deviceId, auth, s.lastInboundAt, s, chat);
      else if (pre instanceof PreparedAuth) this.auth.commit(pre, pre.macOk);
      else throw pre.error;
      if (s.awaitingProof) this.#takeOver(s);
      return true;
    } catch (err) {
      const e = toBotgateError(err, "AUTH_INVALID");
      this.metrics.authFailures.inc(e.code);
      // A replay is rejected but not held against the connection: genuine phones
      // produce them (same-millisecond events; v3.2.0 re-queues a failed write twice).
      if (e.code !== "AUTH_REPLAY") s.authFailures++;
      if (this.#authFailureLogs.pass(`${s.key}\u0000${e.code}`)) {
        const repeats = this.#authFailureLogs.heldBack;
        this.log.warn("auth failure", { bot: s.botName, device: s.deviceId, address: s.address, reason: e.code, detail: e.message, failures: s.authFailures, ...(repeats > 0 ? { notLogged: repeats } : {}) });
      }
      s.sendError(e);
      if (s.authFailures >= this.config.maxAuthFailures) s.close("auth_failures", true);
      return false;
    }
  }

  #analyze(s: Session, f: AnalyzeFrame, pre: PreVerified | undefined): void {
    this.metrics.messagesIn.inc("analyze");
    if (!this.#verify(s, f.auth, pre, true)) return;
    if (s.status !== "approved") {
      this.metrics.droppedNotApproved.inc();
      if (!s.notApprovedNotified) {
        s.notApprovedNotified = true;
        s.sendError(new BotgateError("DEVICE_PENDING", `device is ${s.status}; messages are not processed until an operator approves it`));
      }
      return;
    }
    const d = f.data;
    d.bot = s.botName;
    d.receivedAt = s.lastInboundAt;
    this.rooms.note(s.botName, d.channelId, d.room);
    const origin: ReplyOrigin = { botName: s.botName, deviceId: s.deviceId, room: d.room, channelId: d.channelId, key: s.key };
    // Draining for shutdown: the pipeline refuses it (counted as a "shutdown" drop); the phone is told once.
    if (!this.#accepting && !this.#toldDraining.has(s)) {
      this.#toldDraining.add(s);
      s.sendError(new BotgateError("SHUTTING_DOWN", "server is shutting down: messages are not processed"));
    }
    this.dispatcher?.submit({
      origin,
      device: s.deviceInfo,
      message: d,
    });
  }

  #ping(s: Session, f: PingFrame, pre: PreVerified | undefined): void {
    this.metrics.messagesIn.inc("ping");
    if (!this.#verify(s, f.auth, pre, false)) return;
    const now = Date.now();
    // RTT only when the echo is plausibly our own clock value.
    const rtt = f.serverTimestamp !== null && f.serverTimestamp <= now && now - f.serverTimestamp < 3_600_000 ? now - f.serverTimestamp : null;
    s.lastRttMs = rtt;
    s.lastPingAt = now;
    if (f.monitoring) s.lastMonitoring = f.monitoring;
    if (rtt !== null) this.metrics.pingRttMs.observe(rtt);
    this.pingWriter.add({ botName: s.botName, deviceId: s.deviceId, rttMs: rtt, monitoring: f.monitoring, at: new Date(now).toISOString(), key: s.key });
  }

  /** A proven newcomer replaces the live session of its device. */
  #takeOver(s: Session): void {
    s.proven();
    const fields = this.#unprovenFields.get(s);
    if (fields !== undefined) {
      this.#unprovenFields.delete(s);
      this.#writeFields(fields, s.status);
    }
    const old = this.sessions.get(s.key);
    if (old !== undefined && old !== s) {
      this.metrics.takeovers.inc();
      this.log.info("session takeover", { bot: s.botName, device: s.deviceId, old: old.address, new: s.address });
      old.close("takeover", true);
    }
    this.sessions.set(s.key, s);
  }

  /** The deferred handshake upsert (its status answer is not needed any more); a failure is logged, not fatal. */
  #writeFields(fields: HandshakeUpsert, initial: DeviceStatus): void {
    const task = this.scope.own("task", "device-fields"); // tracked while the write is out
    const write: Promise<void> = this.store.upsertOnHandshake(fields, initial).then(
      () => undefined,
      (err) => {
        this.log.warn("could not record the device's handshake fields", { bot: fields.botName, device: fields.deviceId, error: err });
      },
    );
    this.#fieldWrites.add(write);
    void write.then(() => {
      this.#fieldWrites.delete(write);
      task.release();
    });
  }

  #refuse(s: Session, h: HandshakeFrame, err: BotgateError, reason: string): void {
    this.metrics.handshakesFailed.inc(reason);
    if (this.#refusalLogs.pass(`${h.botName}\u0000${h.deviceId}\u0000${reason}`)) {
      this.log.warn("handshake refused", { bot: h.botName, device: h.deviceId, address: s.address, reason, note: "repeats of this refusal are not logged for 60 s" });
    }
    s.refuseHandshake(err);
  }
}

/**
 * The peer address as the device record keeps it: without an IPv6 zone ("fe80::1%wlan0"
 * for a phone on the LAN), which names the server's interface, not the phone, and
 * could exceed the column's 45 characters (the handshake would be refused).
 */
export function storableAddress(address: string): string {
  const zone = address.indexOf("%");
  return zone < 0 ? address : address.slice(0, zone);
}
