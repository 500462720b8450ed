/** Read the child's stdout until `pred` matches the text so far. */
export async function readUntil(stream: ReadableStream<Uint8Array>, pred: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!pred(text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; output so far:\n${text}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([reader.read(), new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out; output so far:\n${text}`)), left)))]);
      clearTimeout(timer);
      if (r.done) throw new Error(`process exited; output:\n${text}`);
      text += dec.decode(r.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text;
}

