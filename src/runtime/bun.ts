/**
 * Bun adapter: Bun.listen sockets -> botgate Connections. The only file that
 * touches Bun's TCP API. Facts it relies on (measured; see docs/protocol.md on the write path):
 * write() does not buffer, so the WriteQueue keeps the remainder; each
 * connection gets its own `data` object in open().
 */
import type { Connection, ConnectionHandler, Listen, TcpListener } from "../transport/types.ts";
import type { Serve } from "./types.ts";

/** The minimal shape of a Bun socket that we touch. */
interface BunSocket {
  data: ConnectionHandler | undefined;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
}

interface BunListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActive?: boolean): void;
}

interface BunServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActive?: boolean): Promise<void>;
}

declare const Bun: { listen(opts: unknown): BunListener; serve(opts: unknown): BunServer; file(path: string): unknown };

/** A Bun socket as a Connection: a class, so each phone costs one small object, not six closures. */
class BunConnection implements Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  constructor(private readonly s: BunSocket) {
    this.remoteAddress = s.remoteAddress;
    this.remotePort = s.remotePort ?? 0;
  }
  write(d: Uint8Array): number {
    return this.s.write(d);
  }
  end(): void {
    this.s.end();
  }
  destroy(): void {
    this.s.terminate();
  }
  pause(): void {
    this.s.pause();
  }
  resume(): void {
    this.s.resume();
  }
}

export const listen: Listen = (options, accept): TcpListener => {
  const l = Bun.listen({
    hostname: options.hostname,
    port: options.port,
    tls: options.tls ? { cert: Bun.file(options.tls.certFile), key: Bun.file(options.tls.keyFile) } : undefined,
    socket: {
      open(s: BunSocket) {
        s.data = accept(new BunConnection(s));
      },
      data(s: BunSocket, chunk: Uint8Array) {
        s.data?.data(chunk);
      },
      drain(s: BunSocket) {
        s.data?.drain();
      },
      close(s: BunSocket, err?: Error) {
        const h = s.data;
        s.data = undefined;
        h?.closed(err);
      },
      error(s: BunSocket, err: Error) {
        const h = s.data;
        s.data = undefined;
        h?.closed(err);
      },
      // Half-close from the phone: it will not send again; treat it as gone.
      end(s: BunSocket) {
        s.end();
      },
      connectError() {},
    },
  });
  return {
    hostname: l.hostname,
    port: l.port,
    stop: () => l.stop(false),
  };
};

/** HTTP for the admin API (Bun.serve next to Bun.listen in one process). */
export const serve: Serve = (options) => {
  const s = Bun.serve({ hostname: options.hostname, port: options.port, fetch: options.fetch });
  return { hostname: s.hostname, port: s.port, stop: () => s.stop(true) };
};
