import { Option } from "effect"

/**
 * Credential formats. Every secret string carries a recognizable prefix (so
 * secret scanners find leaked ones) and a CRC32 checksum (so a mistyped or
 * truncated one is refused before any database read), as GitHub's tokens do.
 *
 *   API key        ss3k_<16 id chars>_<32 secret chars><6 checksum chars>
 *                  its client_id is `ss3k_<16 id chars>`
 *   OAuth client   client_id `ss3c_<16 id chars>`, secret `ss3s_<32 secret chars><6 checksum chars>`
 *   access token   ss3t_<43 chars>   (opaque; stored only as its SHA-256 digest)
 *
 * Characters are base62. The 32-character secret (~190 bits) is what bcrypt
 * hashes: well under bcrypt's 72-byte input limit. The CRC32 itself comes from
 * the runtime (the `CryptoPrimitives` port): `credentialKeys(crc32)` gives the
 * functions that need it.
 */
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const randomBase62 = (length: number) => {
  // Rejection sampling keeps every character equally likely.
  let out = ""
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += alphabet[byte % 62]
    }
  }
  return out
}

export type CredentialType = "API_KEY" | "OAUTH_CLIENT"

export const apiKeyPrefix = "ss3k_"
export const clientIdPrefix = "ss3c_"
export const clientSecretPrefix = "ss3s_"
export const accessTokenPrefix = "ss3t_"

const apiKeyPattern = /^ss3k_([0-9A-Za-z]{16})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/
const clientIdPattern = /^ss3c_[0-9A-Za-z]{16}$/
const clientSecretPattern = /^ss3s_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/
const accessTokenPattern = /^ss3t_[0-9A-Za-z_-]{43}$/

export interface IssuedSecret {
  readonly clientId: string
  /** What bcrypt hashes (and what a presented credential is compared with). */
  readonly secret: string
  /** What the holder is given: the API key, or the OAuth client secret. */
  readonly presented: string
}

/** A well-formed credential: where to look it up, and the secret to compare. */
export interface ParsedSecret {
  readonly clientId: string
  readonly secret: string
}

export const newClientId = (type: CredentialType) =>
  `${type === "API_KEY" ? apiKeyPrefix : clientIdPrefix}${randomBase62(16)}`

/** CRC-32 (IEEE) of the bytes of an ASCII string: what the checksum is computed from. */
export type Crc32 = (text: string) => number

export interface CredentialKeys {
  /** A new secret for an existing client_id (issue and rotate alike). */
  readonly newSecret: (type: CredentialType, clientId: string) => IssuedSecret
  /** An API key's client_id and secret, or None when it is malformed or its checksum is wrong. */
  readonly parseApiKey: (key: string) => Option.Option<ParsedSecret>
  /** OAuth client credentials, or None when either part is malformed or the checksum is wrong. */
  readonly parseClientCredentials: (clientId: string, clientSecret: string) => Option.Option<ParsedSecret>
}

export const credentialKeys = (crc32: Crc32): CredentialKeys => {
  /** Six base62 characters of the CRC32 of `body` (62^6 > 2^32). */
  const checksum = (body: string) => {
    let value = crc32(body)
    let out = ""
    for (let i = 0; i < 6; i++) {
      out = alphabet[value % 62] + out
      value = Math.floor(value / 62)
    }
    return out
  }
  return {
    newSecret: (type, clientId) => {
      const secret = randomBase62(32)
      const body = type === "API_KEY" ? `${clientId}_${secret}` : `${clientSecretPrefix}${secret}`
      return { clientId, secret, presented: `${body}${checksum(body)}` }
    },
    parseApiKey: (key) => {
      const match = apiKeyPattern.exec(key)
      if (match === null) return Option.none()
      const [, id, secret, sum] = match
      const clientId = `${apiKeyPrefix}${id}`
      return checksum(`${clientId}_${secret}`) === sum ? Option.some({ clientId, secret: secret! }) : Option.none()
    },
    parseClientCredentials: (clientId, clientSecret) => {
      if (!clientIdPattern.test(clientId)) return Option.none()
      const match = clientSecretPattern.exec(clientSecret)
      if (match === null) return Option.none()
      const [, secret, sum] = match
      return checksum(`${clientSecretPrefix}${secret}`) === sum ? Option.some({ clientId, secret: secret! }) : Option.none()
    }
  }
}

export const newAccessToken = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  let b64 = ""
  for (const byte of bytes) b64 += String.fromCharCode(byte)
  return `${accessTokenPrefix}${btoa(b64).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`
}

export const isAccessTokenShape = (token: string) => accessTokenPattern.test(token)
