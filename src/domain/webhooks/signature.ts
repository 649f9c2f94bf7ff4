import { Effect, Either, Encoding } from "effect"

/**
 * The two signatures every attempt carries (WebCrypto keeps this free of any
 * one runtime; the key import is the costly part, so callers keep the keys):
 *
 * - `X-SS3-Signature`: `sha256=` + lowercase hex of HMAC-SHA256 over the raw
 *   body, keyed with the secret string exactly as it was returned;
 * - Standard Webhooks v1 (standardwebhooks.com) `webhook-signature`: `v1,` +
 *   base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{raw body}`,
 *   keyed with the base64-decoded part of the secret after `whsec_`.
 */
export const signatureHeader = "X-SS3-Signature"

const encoder = new TextEncoder()

/** WebCrypto's key type, named without the DOM library. */
export type SigningKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

const importHmac = (raw: Uint8Array): Effect.Effect<SigningKey> =>
  Effect.promise(() => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]))

export const importSigningKey = (secret: string): Effect.Effect<SigningKey> => importHmac(encoder.encode(secret))

export const secretPrefix = "whsec_"

/**
 * The Standard Webhooks key bytes of a secret. Secrets issued now are `whsec_`
 * + standard base64; older subscriptions hold `whsec_` + base64url (issued
 * before Standard Webhooks was supported), decoded as such so they keep
 * working; anything else (never issued, but a hand-written Vault entry) signs
 * with its UTF-8 bytes.
 */
export const standardKeyBytes = (secret: string): Uint8Array => {
  if (!secret.startsWith(secretPrefix)) return encoder.encode(secret)
  const encoded = secret.slice(secretPrefix.length)
  const decoded = Either.orElse(Encoding.decodeBase64(encoded), () => Encoding.decodeBase64Url(encoded))
  return Either.isRight(decoded) && decoded.right.length > 0 ? decoded.right : encoder.encode(secret)
}

/** A fresh secret: `whsec_` + standard base64 of 32 random bytes (Standard Webhooks asks for 24 to 64). */
export const newSecretString = (): string =>
  `${secretPrefix}${Encoding.encodeBase64(crypto.getRandomValues(new Uint8Array(32)))}`

const toHex = (bytes: ArrayBuffer) => {
  const view = new Uint8Array(bytes)
  let out = ""
  for (let i = 0; i < view.length; i++) out += view[i]!.toString(16).padStart(2, "0")
  return out
}

const hmac = (key: SigningKey, data: Uint8Array) => Effect.promise(() => crypto.subtle.sign("HMAC", key, data))

/** `X-SS3-Signature` of `body`. */
export const sign = (key: SigningKey, body: Uint8Array): Effect.Effect<string> =>
  Effect.map(hmac(key, body), (mac) => `sha256=${toHex(mac)}`)

/** One `v1,<base64>` entry of `webhook-signature` for this attempt. */
export const signStandard = (
  key: SigningKey,
  webhookId: string,
  timestampSeconds: number,
  body: Uint8Array
): Effect.Effect<string> => {
  const prefix = encoder.encode(`${webhookId}.${timestampSeconds}.`)
  const signed = new Uint8Array(prefix.length + body.length)
  signed.set(prefix, 0)
  signed.set(body, prefix.length)
  return Effect.map(hmac(key, signed), (mac) => `v1,${Encoding.encodeBase64(new Uint8Array(mac))}`)
}

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
