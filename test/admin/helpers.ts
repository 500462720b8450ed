import { afterEach } from "bun:test";
import { createAdminApp } from "../../src/admin/app.ts";
import type { Hono } from "hono";
import { LegacyPhone, type Frame } from "../support/phone.ts";
import { ADMIN_TOKEN, identity, type TestGateway } from "../support/harness.ts";
import type { PhoneIdentity } from "../support/phone.ts";

export const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** The admin app over a running test gateway, driven in-process with app.request(). */
export function adminFor(gw: TestGateway, token: string | null = ADMIN_TOKEN): Hono {
  return createAdminApp({ gateway: gw.app.gateway, log: gw.app.gateway.log, token, sweeper: gw.app.sweeper, listening: () => true });
}

export async function call(app: Hono, method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<{ status: number; json: any; res: Response }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await app.request(path, init);
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, res };
}

export async function phoneOn(port: number, device: string, over: Partial<PhoneIdentity> = {}): Promise<{ phone: LegacyPhone; hello: Frame }> {
  const phone = await LegacyPhone.connect(port, identity(device, over));
  const hello = await phone.handshake();
  return { phone, hello };
}

/**
 * The gateway a test starts and the phones it opens, for one test file: after
 * each test the phones are destroyed and the gateway is stopped.
 */
export function perTest(): { gw: TestGateway | null; phones: LegacyPhone[] } {
  const fx = { gw: null as TestGateway | null, phones: [] as LegacyPhone[] };
  afterEach(async () => {
    for (const p of fx.phones.splice(0)) p.destroy();
    await fx.gw?.stop();
    fx.gw = null;
  });
  return fx;
}
