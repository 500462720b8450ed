/**
 * The runtime-neutral HTTP contract (the admin API). Each runtime adapter
 * fills it with its own server (Bun.serve, Deno.serve, ...); the Hono app
 * only ever sees a `fetch` function.
 */
export interface HttpServeOptions {
  hostname: string;
  port: number;
  fetch: (request: Request) => Response | Promise<Response>;
}

export interface HttpServer {
  readonly hostname: string;
  readonly port: number;
  /** Stop listening and close open connections. */
  stop(): Promise<void>;
}

export type Serve = (options: HttpServeOptions) => HttpServer;
