/**
 * Bun adapter: Bun.listen sockets -> botgate Connections. The only file that
 * touches Bun's TCP API. Facts it relies on (measured; see docs/protocol.md on the write path):
 * write() does not buffer, so the WriteQueue keeps the remainder; each
 * connection gets its own `data` object in open().
 */
import type { Connection, ConnectionHandler, Listen, ListenOptions, TcpListener } from "../transport/types.ts";
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

/**
 * Bun listens with an accept queue of 512 (not configurable): 10,000 phones reconnecting
 * at once overflow it, and the dropped ones retry after 1 s and 3 s. With acceptQueues > 1
 * the port gets that many listening sockets (SO_REUSEPORT, all served by this event loop),
 * among which the kernel spreads the connections. Linux only (elsewhere SO_REUSEPORT does
 * not spread connections, or means something else), and plain TCP only (each TLS listener
 * would load its own certificate and context).
 */
export const listen: Listen = (options, accept): TcpListener => {
  const shareable = process.platform === "linux" && !options.tls;
  const queues = shareable ? Math.max(1, Math.floor(options.acceptQueues ?? 1)) : 1;
  if (queues === 1) return stoppable([listenOne(options, options.port, false, accept)]);
  // A plain bind first: a port that is taken (another botgate, say) fails here, as it does
  // with one listener, instead of these sockets silently joining that process's group.
  if (options.port !== 0) listenOne(options, options.port, false, accept).stop(true);
  const all = [listenOne(options, options.port, true, accept)];
  try {
    while (all.length < queues) all.push(listenOne(options, all[0]!.port, true, accept));
  } catch (err) {
    for (const l of all) l.stop(true);
    throw err;
  }
  return stoppable(all);
};

function stoppable(all: BunListener[]): TcpListener {
  return {
    hostname: all[0]!.hostname,
    port: all[0]!.port,
    stop: () => {
      for (const l of all) l.stop(false);
    },
  };
}

function listenOne(options: ListenOptions, port: number, reusePort: boolean, accept: (conn: Connection) => ConnectionHandler): BunListener {
  return Bun.listen({
    hostname: options.hostname,
    port,
    reusePort,
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
}

/** HTTP for the admin API (Bun.serve next to Bun.listen in one process). */
export const serve: Serve = (options) => {
  const s = Bun.serve({ hostname: options.hostname, port: options.port, fetch: options.fetch });
  return { hostname: s.hostname, port: s.port, stop: () => s.stop(true) };
};
