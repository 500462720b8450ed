/**
 * The runtime-neutral TCP contract. Each runtime adapter (src/runtime/*)
 * turns its sockets into these; nothing else in botgate touches a runtime
 * socket.
 */
export interface Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Bytes the kernel accepted now (may be fewer than asked, or 0); -1 once closed.
   * Must not keep `data` after returning: the caller reuses the buffer (an
   * adapter that writes asynchronously copies what it accepted).
   */
  write(data: Uint8Array): number;
  /** Graceful close; callers flush everything first (Bun's end(data) drops bytes). */
  end(): void;
  /** Immediate close. */
  destroy(): void;
  pause(): void;
  resume(): void;
}

export interface ConnectionHandler {
  data(chunk: Uint8Array): void;
  /** The kernel can take more bytes. */
  drain(): void;
  /** The connection is gone (FIN, RST, error or our own close); called once. */
  closed(error?: Error): void;
}

export interface ListenOptions {
  hostname: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  /**
   * Listening sockets on the port (SO_REUSEPORT), each with its own accept queue, so a
   * reconnect storm is not cut short by one queue's length. 1 = one plain listener. An
   * adapter whose runtime cannot share a port (Deno: reusePort is unstable there) uses one.
   */
  acceptQueues?: number;
}

export interface TcpListener {
  readonly hostname: string;
  readonly port: number;
  /** Stop accepting; existing connections are left to their owners. */
  stop(): void;
}

export type Listen = (options: ListenOptions, accept: (conn: Connection) => ConnectionHandler) => TcpListener;
