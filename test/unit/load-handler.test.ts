import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHandler } from "../../src/bot/load.ts";
import { BotgateError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "botgate-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A handler module with this body, at a fresh path (modules are cached by URL). */
function moduleWith(name: string, body: string): string {
  const p = join(dir, `${name}.ts`);
  writeFileSync(p, body);
  return p;
}

async function loadError(path: string): Promise<BotgateError> {
  const err = await loadHandler(path).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(BotgateError);
  return err as BotgateError;
}

describe("loadHandler", () => {
  test("a module that throws anything (null, a string, an Error) is CONFIG_INVALID naming what it threw", async () => {
    for (const [name, thrown, said] of [
      ["null", "null", ": null"],
      ["string", '"봇 설정이 없어요"', ": 봇 설정이 없어요"],
      ["error", 'new Error("no token")', ": no token"],
    ] as const) {
      const e = await loadError(moduleWith(`throws-${name}`, `throw ${thrown};\nexport default () => "x";\n`));
      expect(e.code).toBe("CONFIG_INVALID");
      expect(e.message.endsWith(said)).toBe(true);
    }
  });

  test("a module without a default function (or handle) is CONFIG_INVALID", async () => {
    const e = await loadError(moduleWith("no-default", "export const x = 1;\n"));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toContain("must export a default function");
  });

  test("a module exporting handle() is loaded", async () => {
    const h = await loadHandler(moduleWith("handle", 'export function handle() { return "안녕"; }\n'));
    expect(await h({} as never, {} as never)).toBe("안녕");
  });
});
