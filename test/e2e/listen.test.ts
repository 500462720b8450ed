import { afterEach, describe, expect, test } from "bun:test";
import { connected, startTestGateway, type TestGateway } from "../support/harness.ts";

const started: TestGateway[] = [];
afterEach(async () => {
  for (const g of started.splice(0)) await g.stop();
});

describe("listen.acceptQueues (several SO_REUSEPORT listeners on one port)", () => {
  test("a second gateway on the same port is refused instead of joining the first one's listeners; the port is free again after stop", async () => {
    const a = await startTestGateway({ listen: { host: "127.0.0.1", port: 0, acceptQueues: 4 } });
    started.push(a);
    const port = a.port;
    await expect(startTestGateway({ listen: { host: "127.0.0.1", port, acceptQueues: 4 } })).rejects.toThrow(/listen/i);
    await expect(startTestGateway({ listen: { host: "127.0.0.1", port, acceptQueues: 1 } })).rejects.toThrow(/listen/i);
    // Every phone still reaches the first gateway, whichever of its listeners takes it.
    const phones = await Promise.all(Array.from({ length: 24 }, (_, i) => connected(port, `q-${i}`)));
    expect(a.app.gateway.sessions.size).toBe(24);
    for (const p of phones) p.destroy();
    await a.stop();
    started.length = 0;
    const b = await startTestGateway({ listen: { host: "127.0.0.1", port, acceptQueues: 4 } });
    started.push(b);
    expect(b.port).toBe(port);
    const p = await connected(port, "after-restart");
    expect(b.app.gateway.sessions.size).toBe(1);
    p.destroy();
  });

  test("acceptQueues is 1..64", async () => {
    for (const bad of [0, 65, 1.5, "4"]) {
      await expect(startTestGateway({ listen: { host: "127.0.0.1", port: 0, acceptQueues: bad } })).rejects.toThrow("listen.acceptQueues");
    }
  });
});
