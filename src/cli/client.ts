/** HTTP client for the admin API, as the CLI uses it. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

export class ConnectError extends Error {
  override name = "ConnectError";
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
    private readonly fetchFn: Fetch = (i, init) => fetch(i, init),
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl.replace(/\/+$/, "") + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ConnectError(`cannot reach the admin API at ${withoutCredentials(this.baseUrl)}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: any = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      if (!res.ok) throw new ApiError(res.status, "HTTP_" + res.status, text.slice(0, 200) || res.statusText);
      throw new ApiError(res.status, "BAD_RESPONSE", `the admin API answered something that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = json?.error ?? {};
      throw new ApiError(res.status, e.code ?? "HTTP_" + res.status, e.message ?? res.statusText, e.fields ?? []);
    }
    return json as T;
  }
}

/**
 * The URL with any user:password@ part masked (error messages go to the terminal and to
 * logs): everything before the last "@", after the scheme's "//" if there is one. A password
 * with "/", "@" or a mistyped scheme ("admin:pw@host", "http:/u:pw@host") is masked too.
 */
export function withoutCredentials(url: string): string {
  const at = url.lastIndexOf("@");
  if (at < 0) return url;
  const slashes = url.indexOf("//");
  const from = slashes >= 0 && slashes < at ? slashes + 2 : 0;
  return `${url.slice(0, from)}***${url.slice(at)}`;
}
