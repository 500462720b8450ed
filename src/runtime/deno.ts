/**
 * Deno adapter: Deno.listen connections -> botgate Connections. Deno's write is
 * asynchronous, so write() accepts one buffer at a time (returning 0 while one
 * is in flight) and signals drain when it has gone; the WriteQueue keeps the rest.
 */
import type { Connection, ConnectionHandler, Listen, TcpListener } from "../transport/types.ts";
import type { Serve } from "./types.ts";

/** The minimal shapes of Deno's API that we touch. */
interface DenoConn {
  readonly remoteAddr: { hostname: string; port: number };
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}
interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: { hostname: string; port: number };
  close(): void;
}
interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
}
declare const Deno: {
  serve(o: { hostname: string; port: number; onListen?: () => void }, handler: (r: Request) => Response | Promise<Response>): DenoHttpServer;
  listen(o: { hostname: string; port: number }): DenoListener;
  listenTls(o: { hostname: string; port: number; cert: string; key: string }): DenoListener;
  readTextFileSync(p: string): string;
};

const READ_SIZE = 64 * 1024;

function serveConn(c: DenoConn, accept: (conn: Connection) => ConnectionHandler): void {
  let closed = false;
  let writing = false;
  let endAfterWrite = false;
  let paused: { promise: Promise<void>; resume: () => void } | null = null;
  const shut = () => {
    if (closed) return;
    closed = true;
    try {
      c.close();
    } catch {
      // already closed by the peer
    }
    paused?.resume();
  };
  const conn: Connection = {
    remoteAddress: c.remoteAddr.hostname,
    remotePort: c.remoteAddr.port,
    write(data) {
      if (closed) return -1;
      if (writing) return 0;
      writing = true;
      const own = data.slice(); // the caller reuses `data` once write() returns
      (async () => {
        let off = 0;
        while (off < own.length) off += await c.write(own.subarray(off));
      })().then(
        () => {
          writing = false;
          if (endAfterWrite) shut();
          else if (!closed) handler.drain();
        },
        () => shut(),
      );
      return data.length;
    },
    end() {
      if (writing) endAfterWrite = true;
      else shut();
    },
    destroy: shut,
    pause() {
      if (paused) return;
      let resume!: () => void;
      const promise = new Promise<void>((r) => (resume = r));
      paused = { promise, resume };
    },
    resume() {
      const p = paused;
      paused = null;
      p?.resume();
    },
  };
  const handler = accept(conn);
  (async () => {
    const buf = new Uint8Array(READ_SIZE);
    let error: Error | undefined;
    try {
      while (!closed) {
        const p = paused as { promise: Promise<void> } | null;
        if (p) await p.promise;
        if (closed) break;
        const n = await c.read(buf);
        if (n === null) break;
        // The framer may keep views of a chunk: hand over a copy, the buffer is reused.
        handler.data(buf.slice(0, n));
      }
    } catch (e) {
      if (!closed) error = e as Error;
    }
    shut();
    handler.closed(error);
  })();
}

export const listen: Listen = (options, accept): TcpListener => {
  const l = options.tls
    ? Deno.listenTls({ hostname: options.hostname, port: options.port, cert: Deno.readTextFileSync(options.tls.certFile), key: Deno.readTextFileSync(options.tls.keyFile) })
    : Deno.listen({ hostname: options.hostname, port: options.port });
  (async () => {
    try {
      for await (const c of l) serveConn(c, accept);
    } catch {
      // listener closed
    }
  })();
  return { hostname: l.addr.hostname, port: l.addr.port, stop: () => l.close() };
};

/** HTTP for the admin API (Deno.serve next to Deno.listen in one process). */
export const serve: Serve = (options) => {
  const s = Deno.serve({ hostname: options.hostname, port: options.port, onListen() {} }, options.fetch);
  return { hostname: s.addr.hostname, port: s.addr.port, stop: () => s.shutdown() };
};
