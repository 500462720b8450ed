import { type App, startApp } from "../../src/app.ts";
import { type Config, parseConfig } from "../../src/config/options.ts";
import { createLogger } from "../../src/log/logger.ts";
import * as bun from "../../src/runtime/bun.ts";
import { LegacyPhone, type PhoneIdentity } from "./phone.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export const BOT = { name: "LOA.i", secret: "test-secret-0123456789abcdef", salt: "test-salt-xyz" };

export function identity(deviceId: string, over: Partial<PhoneIdentity> = {}): PhoneIdentity {
  return { botName: BOT.name, deviceId, secret: BOT.secret, salt: BOT.salt, ...over };
}

export interface TestGateway {
  app: App;
  port: number;
  config: Config;
  logs: string[];
  /** http://127.0.0.1:<port> of the admin API, when started with { admin: true }. */
  adminUrl: string | null;
  stop(): Promise<void>;
}

/** A real gateway on 127.0.0.1:<random port> with an in-memory SQLite store. */
export async function startTestGateway(raw: Record<string, unknown> = {}, opts: { admin?: boolean } = {}): Promise<TestGateway> {
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    store: { kind: "sqlite", path: ":memory:" },
    bots: [{ ...BOT, autoApprove: true }],
    admin: opts.admin ? { enabled: true, host: "127.0.0.1", port: 0, token: ADMIN_TOKEN } : { enabled: false },
    ...raw,
  });
  const logs: string[] = [];
  const log = createLogger("debug", (l) => logs.push(l));
  const app = await startApp(config, bun, log);
  const adminUrl = app.admin ? `http://127.0.0.1:${app.admin.port}` : null;
  return { app, port: app.listener.port, config, logs, adminUrl, stop: () => app.stop() };
}

/** Poll a condition until true, failing after a deadline (for state not announced by an event). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A scripted phone of the test bot, connected and past its handshake. */
export async function connected(port: number, device: string, over: Partial<PhoneIdentity> = {}): Promise<LegacyPhone> {
  const phone = await LegacyPhone.connect(port, identity(device, over));
  await phone.handshake();
  return phone;
}
