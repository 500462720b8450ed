// Public facade of the WASM hot path: line framing and SHA-256 / HMAC-SHA256.
// Runtime-neutral (plain WebAssembly API); one shared instance per process.
export { type LineSink, LineFramer, DEFAULT_MAX_LINE_BYTES } from "./framer.ts";
export { sha256, hmacSha256, HmacKey, PrefixedKey, type VerifyItem, verifyBatch, type PackedItem, verifyPacked } from "./hmac.ts";
