import { Effect } from "effect"

/**
 * `X-SS3-Signature`: `sha256=` + lowercase hex of HMAC-SHA256(secret, raw body).
 * WebCrypto keeps this free of any one runtime; the key import is the costly
 * part, so callers keep the `CryptoKey` (see `importSigningKey`).
 */
export const signatureHeader = "X-SS3-Signature"

const encoder = new TextEncoder()

/** WebCrypto's key type, named without the DOM library. */
export type SigningKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

export const importSigningKey = (secret: string): Effect.Effect<SigningKey> =>
  Effect.promise(() =>
    crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
  )

const toHex = (bytes: ArrayBuffer) => {
  const view = new Uint8Array(bytes)
  let out = ""
  for (let i = 0; i < view.length; i++) out += view[i]!.toString(16).padStart(2, "0")
  return out
}

export const sign = (key: SigningKey, body: Uint8Array): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.sign("HMAC", key, body)).pipe(Effect.map((mac) => `sha256=${toHex(mac)}`))

const signaturePattern = /^sha256=([0-9a-f]{64})$/

/**
 * True when `header` is the signature of `body` under `secret`. WebCrypto's
 * `verify` compares the MACs in constant time.
 */
export const verify = (secret: string, body: Uint8Array, header: string | undefined): Effect.Effect<boolean> => {
  const match = header === undefined ? null : signaturePattern.exec(header.trim().toLowerCase())
  if (match === null) return Effect.succeed(false)
  const mac = Uint8Array.from(match[1]!.match(/../g)!, (byte) => parseInt(byte, 16))
  return Effect.promise(async () => {
    const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"])
    return crypto.subtle.verify("HMAC", key, mac, body)
  })
}
