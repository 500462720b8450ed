import { StoreError } from "./types.ts";

/** Runs a store operation; any non-StoreError failure becomes a StoreError that keeps the cause. */
export async function guard<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new StoreError(`${what} failed: ${detail}`, { cause: err });
  }
}
