import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "../../src/store/open.ts";
import { StoreError } from "../../src/store/types.ts";
import { describeDeviceStoreConformance, hs } from "./conformance.ts";

const dir = mkdtempSync(join(tmpdir(), "botgate-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeDeviceStoreConformance("sqlite file", async ({ pingRetention, trimMaxRows }) => {
  const path = join(dir, `run-${n++}`, "nested", "devices.db"); // directory created on open
  const store = await openStore({ kind: "sqlite", path, pingRetention, trimMaxRows });
  return { store };
});

describeDeviceStoreConformance("sqlite :memory:", async ({ pingRetention, trimMaxRows }) => ({
  store: await openStore({ kind: "sqlite", path: ":memory:", pingRetention, trimMaxRows }),
}));

describe("sqlite specifics", () => {
  test("reconnect storms of handshake upserts do not grow the WAL without bound (auto-checkpoint runs)", async () => {
    const path = join(dir, "wal", "d.db");
    const store = await openStore({ kind: "sqlite", path });
    for (let i = 0; i < 6000; i++) await store.upsertOnHandshake(hs({ deviceId: `phone-${i % 64}`, ipAddress: `10.0.0.${i % 250}` }), "approved");
    // 6000 upserts write ~6000 WAL frames (~24 MB) unless checkpoints run every 1000 pages
    expect(statSync(`${path}-wal`).size).toBeLessThan(8 * 1024 * 1024);
    await store.close();
  });

  test("creates kb_bot_devices with exactly the legacy columns, WAL on, data survives reopen", async () => {
    const path = join(dir, "legacy", "d.db");
    const store = await openStore({ kind: "sqlite", path });
    await store.upsertOnHandshake(hs(), "approved");
    await store.close();
    expect(existsSync(path)).toBe(true);

    const db = new DatabaseSync(path);
    const cols = db.prepare("PRAGMA table_info(kb_bot_devices)").all().map((c) => (c as { name: string }).name);
    expect(cols).toEqual([
      "id", "bot_name", "device_id", "ip_address", "status", "client_type",
      "client_version", "client_info", "descryption", "created_at", "updated_at",
    ]);
    expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" } as never);
    db.close();

    const again = await openStore({ kind: "sqlite", path });
    expect((await again.get("LOA.i", "ccbd8eee1012327e"))?.status).toBe("approved");
    await again.close();
  });

  test("a second store on the same file sees the first one's writes", async () => {
    const path = join(dir, "shared", "d.db");
    const a = await openStore({ kind: "sqlite", path });
    const b = await openStore({ kind: "sqlite", path });
    await a.upsertOnHandshake(hs(), "pending");
    expect((await b.get("LOA.i", "ccbd8eee1012327e"))?.status).toBe("pending");
    await Promise.all([a.close(), b.close()]);
  });

  test("bad config throws StoreError", async () => {
    await expect(openStore({ kind: "sqlite", path: "" })).rejects.toBeInstanceOf(StoreError);
    await expect(openStore({ kind: "sqlite", path: ":memory:", pingRetention: 0 })).rejects.toBeInstanceOf(StoreError);
    await expect(openStore({ kind: "nope" } as never)).rejects.toBeInstanceOf(StoreError);
    // A path whose parent is a file cannot be created.
    const file = join(dir, "plain-file");
    await Bun.write(file, "x");
    await expect(openStore({ kind: "sqlite", path: join(file, "d.db") })).rejects.toBeInstanceOf(StoreError);
  });
});
