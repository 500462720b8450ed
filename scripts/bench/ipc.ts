/**
 * Parent <-> child plumbing for the benchmark processes: Bun IPC with
 * request/response by id, plus one-way events. Children run through `sh` so
 * they can raise their open-file limit to the hard limit first.
 */
import type { Subprocess } from "bun";

/** Extra bun flags for server processes, e.g. BENCH_SERVER_FLAGS="--cpu-prof-md --cpu-prof-dir=results/prof". */
export const SERVER_BUN_FLAGS = (process.env.BENCH_SERVER_FLAGS ?? "").split(" ").filter(Boolean);

type Msg = { id?: number; type?: string; cmd?: string; ok?: boolean; error?: string; [k: string]: unknown };

export class Child {
  readonly name: string;
  readonly proc: Subprocess;
  readonly exited: Promise<number>;
  readonly #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly #events: Msg[] = [];
  #eventWaiters: Array<() => void> = [];
  #nextId = 1;
  #tail: string[] = [];

  constructor(name: string, script: string, args: string[] = [], opts: { quietOutput?: boolean; bunFlags?: string[] } = {}) {
    this.name = name;
    const shim = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';
    this.proc = Bun.spawn({
      cmd: ["sh", "-c", shim, process.execPath, ...(opts.bunFlags ?? []), script, ...args],
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      serialization: "json",
      ipc: (m: Msg) => this.#onMessage(m),
    });
    this.#collect(this.proc.stdout as ReadableStream<Uint8Array>, opts.quietOutput ?? false);
    this.#collect(this.proc.stderr as ReadableStream<Uint8Array>, false);
    this.exited = this.proc.exited.then((code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`${this.name} exited (${code}) before answering\n${this.tail()}`));
      this.#pending.clear();
      this.#wake();
      return code;
    });
  }

  /** Send a command and wait for its answer. */
  request<T = any>(cmd: string, payload: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: "${cmd}" not answered within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(t), resolve(v)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      this.proc.send({ id, cmd, ...payload });
    });
  }

  /** Wait for a one-way event of this type (e.g. "ready"). */
  async event<T = any>(type: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#events.findIndex((e) => e.type === type);
      if (i >= 0) return this.#events.splice(i, 1)[0] as T;
      if (this.proc.exitCode !== null) throw new Error(`${this.name} exited (${this.proc.exitCode}) before "${type}"\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${timeoutMs} ms\n${this.tail()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.#eventWaiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  tail(): string {
    return this.#tail.length ? `--- last output of ${this.name} ---\n${this.#tail.join("\n")}` : "";
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }

  #onMessage(m: Msg): void {
    if (m.id !== undefined && this.#pending.has(m.id)) {
      const p = this.#pending.get(m.id)!;
      this.#pending.delete(m.id);
      if (m.ok === false) p.reject(new Error(`${this.name}: ${m.error}`));
      else p.resolve(m.result);
      return;
    }
    this.#events.push(m);
    this.#wake();
  }

  #wake(): void {
    const w = this.#eventWaiters;
    this.#eventWaiters = [];
    for (const f of w) f();
  }

  async #collect(stream: ReadableStream<Uint8Array>, quiet: boolean): Promise<void> {
    const dec = new TextDecoder();
    const push = (line: string) => {
      if (!quiet) this.#tail.push(line.length > 500 ? line.slice(0, 500) + "..." : line);
      if (this.#tail.length > 30) this.#tail.shift();
    };
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    // The last line may have no trailing newline (e.g. a crash message); keep it too.
    buf += dec.decode();
    if (buf.length > 0) push(buf);
  }
}

/** Child side: answer commands from the parent; exit when the parent goes away. */
export function serve(handlers: Record<string, (msg: Msg) => unknown>): void {
  process.on("message", async (m: Msg) => {
    if (m.cmd === undefined) return;
    const h = handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const result = await h(m);
      process.send!({ id: m.id, ok: true, result });
    } catch (err) {
      process.send!({ id: m.id, ok: false, error: err instanceof Error ? `${err.message}` : String(err) });
    }
  });
  process.on("disconnect", () => process.exit(0));
}

export function emit(type: string, payload: Record<string, unknown> = {}): void {
  process.send!({ type, ...payload });
}

/** CPU seconds (user + system) of this process. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
