import { Effect } from "effect"

const encoder = new TextEncoder()
const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("")

/**
 * Lowercase hex SHA-256 through WebCrypto (asynchronous), for callers off the
 * gateway's hot path that need no service (e.g. stable event ids). The hot
 * path hashes synchronously through the `CryptoPrimitives` port.
 */
export const sha256Hex = (text: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", encoder.encode(text))).pipe(Effect.map(hex))
