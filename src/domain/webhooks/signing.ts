import { Encoding } from "effect"
import { standardKeyBytes } from "./signature.ts"

/**
 * What the webhook lane signs each attempt with (the formats are described in
 * signature.ts): the key bytes of one secret, and HMAC-SHA256 as a
 * synchronous primitive (the CryptoPrimitives port), so signing costs one
 * native call rather than a thread-pool job per signature.
 */
export type HmacSha256 = (key: Uint8Array, data: Uint8Array) => Uint8Array

/** Both keys of one secret: the secret's UTF-8 bytes (X-SS3-Signature) and its Standard Webhooks bytes. */
export interface SigningKeys {
  readonly ss3: Uint8Array
  readonly standard: Uint8Array
}

const encoder = new TextEncoder()

export const signingKeysOf = (secret: string): SigningKeys => ({
  ss3: encoder.encode(secret),
  standard: standardKeyBytes(secret)
})

const hex = (bytes: Uint8Array) => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, "0")
  return out
}

/** `X-SS3-Signature` of `body`: `sha256=` + lowercase hex. */
export const ss3Signature = (hmac: HmacSha256, keys: SigningKeys, body: Uint8Array): string =>
  `sha256=${hex(hmac(keys.ss3, body))}`

/** One `v1,<base64>` entry of `webhook-signature`: over `{webhook-id}.{webhook-timestamp}.{body}`. */
export const standardSignature = (
  hmac: HmacSha256,
  keys: SigningKeys,
  webhookId: string,
  timestampSeconds: number,
  body: Uint8Array
): string => {
  const prefix = encoder.encode(`${webhookId}.${timestampSeconds}.`)
  const signed = new Uint8Array(prefix.length + body.length)
  signed.set(prefix, 0)
  signed.set(body, prefix.length)
  return `v1,${Encoding.encodeBase64(hmac(keys.standard, signed))}`
}
