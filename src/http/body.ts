/**
 * HTTP bodies read with a byte cap (admin requests, webhook answers): a body
 * is never buffered past the cap, whatever its content-length says or omits.
 */
export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
}
export class BodyNotUtf8 extends Error {
  override name = "BodyNotUtf8";
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as UTF-8 text. Throws BodyTooLarge past `maxBytes` (the stream is
 * cancelled), BodyNotUtf8 for invalid UTF-8; a failing stream's own error passes through.
 */
export async function readUtf8(body: ReadableStream<Uint8Array> | null, maxBytes: number, declaredLength: string | null = null): Promise<string> {
  if (Number(declaredLength ?? "0") > maxBytes) {
    await body?.cancel().catch(() => {});
    throw new BodyTooLarge(`body larger than ${maxBytes} bytes`);
  }
  if (body === null) return "";
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLarge(`body larger than ${maxBytes} bytes`);
      }
      parts.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  try {
    return fatalUtf8.decode(all);
  } catch {
    throw new BodyNotUtf8("body is not valid UTF-8");
  }
}
