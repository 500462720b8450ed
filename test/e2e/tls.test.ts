import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { identity, startTestGateway, type TestGateway } from "../support/harness.ts";
import { LegacyPhone } from "../support/phone.ts";

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

test("listen.tls serves the same protocol over TLS", async () => {
  const dir = mkdtempSync(join(tmpdir(), "botgate-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const gen = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", keyFile, "-out", certFile], { stderr: "pipe" });
  expect(gen.exitCode).toBe(0);
  gw = await startTestGateway({ listen: { host: "127.0.0.1", port: 0, tls: { certFile, keyFile } } });
  const phone = await LegacyPhone.connectTls(gw.port, identity("tls-phone"));
  expect((await phone.handshake()).data.success).toBe(true);
  phone.write(phone.analyzeLine({ text: "!echo 암호화 🔒" }));
  expect((await phone.next((f) => f.event === "messageResponse")).data.text).toBe("암호화 🔒");
  phone.destroy();
});
