/**
 * A scripted legacy phone (bridge v3.2.x) over a real TCP socket, for tests
 * and benchmarks. Signs with node:crypto, independently of botgate's WASM.
 */
import { createHmac } from "node:crypto";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface PhoneIdentity {
  botName: string;
  deviceId: string;
  secret: string;
  salt: string;
  version?: string;
  macAddress?: string;
  ipAddress?: string;
}

export type Frame = { event?: string; data?: any; [k: string]: unknown };

export function signAuth(id: PhoneIdentity, timestamp: number, over: Partial<Record<string, unknown>> = {}) {
  const a = {
    clientType: "MessengerBotR",
    botName: id.botName,
    deviceUUID: id.deviceId,
    deviceID: id.deviceId,
    macAddress: id.macAddress ?? "02:00:00:00:00:00",
    ipAddress: id.ipAddress ?? "192.168.1.100",
    timestamp,
    version: id.version ?? "3.2.1",
    ...over,
  } as Record<string, unknown>;
  const msg = `${a.clientType}|${a.botName}|${a.deviceUUID}|${a.macAddress}|${a.ipAddress}|${a.timestamp}|${id.salt}`;
  a.signature = createHmac("sha256", Buffer.from(id.secret, "utf8")).update(Buffer.from(msg, "utf8")).digest("hex");
  return a;
}

let tsCounter = 0;
/** Distinct timestamps near now, so consecutive auth blocks never collide. */
export function freshTimestamp(): number {
  const now = Date.now();
  tsCounter = Math.max(tsCounter + 1, now);
  return tsCounter;
}

export class LegacyPhone {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  #buf = "";
  #waiters: Array<() => void> = [];
  #sock: Socket;
  isClosed = false;

  private constructor(sock: Socket, readonly id: PhoneIdentity) {
    this.#sock = sock;
    sock.setEncoding("utf8");
    sock.on("data", (s: string) => {
      this.#buf += s;
      let i: number;
      while ((i = this.#buf.indexOf("\n")) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        try {
          this.frames.push(JSON.parse(line));
        } catch {
          this.frames.push({ event: "__unparseable__", data: line });
        }
      }
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      sock.on("close", () => {
        this.isClosed = true;
        this.#wake();
        resolve();
      });
    });
    sock.on("error", () => {});
  }

  static connect(port: number, id: PhoneIdentity, host = "127.0.0.1", localAddress?: string): Promise<LegacyPhone> {
    return new Promise((resolve, reject) => {
      const sock = connect({ port, host, localAddress });
      sock.once("connect", () => resolve(new LegacyPhone(sock, id)));
      sock.once("error", reject);
    });
  }

  /** Same phone over TLS (certificate checks off: tests use a self-signed one). */
  static connectTls(port: number, id: PhoneIdentity, host = "127.0.0.1"): Promise<LegacyPhone> {
    return new Promise((resolve, reject) => {
      const sock = tlsConnect({ port, host, rejectUnauthorized: false });
      sock.once("secureConnect", () => resolve(new LegacyPhone(sock, id)));
      sock.once("error", reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  write(data: string | Uint8Array): void {
    this.#sock.write(data);
  }

  handshakeLine(over: Record<string, unknown> = {}): string {
    return (
      JSON.stringify({
        clientType: "MessengerBotR",
        botName: this.id.botName,
        version: this.id.version ?? "3.2.1",
        deviceID: this.id.deviceId,
        deviceIP: "192.168.1.100",
        deviceInfo: "samsung SM-G991N (Android 13, API 33)",
        ...over,
      }) + "\n"
    );
  }

  analyzeLine(data: Partial<Record<string, unknown>> = {}, auth?: Record<string, unknown>): string {
    return (
      JSON.stringify({
        event: "analyze",
        data: {
          room: "테스트방",
          text: "!ping",
          sender: "홍길동",
          isGroupChat: true,
          channelId: "18294870190341",
          logId: String(Math.floor(Math.random() * 1e15)),
          userHash: "a1b2c3",
          isMention: false,
          timestamp: "2025-01-20 15:30:45",
          botName: this.id.botName,
          clientType: "MessengerBotR",
          auth: auth ?? signAuth(this.id, freshTimestamp()),
          ...data,
        },
      }) + "\n"
    );
  }

  pingLine(serverTimestamp: number, monitoring?: Record<string, unknown>, auth?: Record<string, unknown>): string {
    return (
      JSON.stringify({
        event: "ping",
        data: { bot_name: this.id.botName, server_timestamp: serverTimestamp, monitoring, auth: auth ?? signAuth(this.id, freshTimestamp()) },
      }) + "\n"
    );
  }

  /** Handshake and wait for handshakeComplete. */
  async handshake(over: Record<string, unknown> = {}): Promise<Frame> {
    this.write(this.handshakeLine(over));
    return this.next((f) => f.event === "handshakeComplete");
  }

  /** Wait for the first frame (not yet consumed) matching `pred`; it is consumed. */
  next(pred: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.frames.findIndex(pred);
        if (i >= 0) {
          const [f] = this.frames.splice(i, 1);
          clearTimeout(t);
          return resolve(f!);
        }
        if (this.isClosed) {
          clearTimeout(t);
          return reject(new Error(`connection closed before the expected frame; got ${JSON.stringify(this.frames)}`));
        }
        this.#waiters.push(check);
      };
      const t = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)), Math.max(0, deadline - Date.now()));
      check();
    });
  }

  /** Resolve when the server closes the connection (or reject after the deadline). */
  waitClosed(timeoutMs = 5000): Promise<void> {
    let t: ReturnType<typeof setTimeout>;
    return Promise.race([
      this.closed.then(() => clearTimeout(t)),
      new Promise<void>((_, reject) => (t = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs))),
    ]);
  }

  pauseReading(): void {
    this.#sock.pause();
  }

  resumeReading(): void {
    this.#sock.resume();
  }

  end(): void {
    this.#sock.end();
  }

  destroy(): void {
    this.#sock.destroy();
  }

  /** RST instead of FIN. */
  reset(): void {
    this.#sock.resetAndDestroy();
  }
}
