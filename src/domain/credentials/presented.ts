import { accessTokenPrefix, apiKeyPrefix } from "./keys.ts"

/** A credential as the gateway forwards it, split by form (SPEC.md "Gateway"). */
export type Presented =
  | { readonly _tag: "ApiKey"; readonly key: string }
  | { readonly _tag: "ClientCredentials"; readonly clientId: string; readonly clientSecret: string }
  | { readonly _tag: "AccessToken"; readonly token: string }

export type HeaderParse =
  | { readonly _tag: "Presented"; readonly presented: Presented }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Malformed"; readonly reason: string }

const malformed = (reason: string): HeaderParse => ({ _tag: "Malformed", reason })
const maxLength = 1024

const fromBearer = (token: string): HeaderParse => {
  if (token.startsWith(apiKeyPrefix)) return { _tag: "Presented", presented: { _tag: "ApiKey", key: token } }
  if (token.startsWith(accessTokenPrefix)) return { _tag: "Presented", presented: { _tag: "AccessToken", token } }
  return malformed("the bearer token is neither an API key nor an access token")
}

const decodeBase64 = (text: string): string | undefined => {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 === 1) return undefined
  try {
    const binary = atob(text)
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

/** application/x-www-form-urlencoded decoding of one value; undefined when a `%` escape is broken. */
const formDecode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "))
  } catch {
    return undefined
  }
}

/**
 * Reads `Authorization: Bearer …`, `Authorization: Basic base64(id:secret)` or
 * `X-API-Key: …`. Authorization wins when both are sent. Never throws: any
 * input is Presented, Missing or Malformed.
 */
export const parseCredentialHeaders = (
  authorization: string | undefined,
  apiKey: string | undefined
): HeaderParse => {
  if (authorization !== undefined && authorization.trim() !== "") {
    if (authorization.length > maxLength) return malformed("the Authorization header is too long")
    const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(authorization)
    if (match === null) return malformed("the Authorization header is not `<scheme> <credentials>`")
    const scheme = match[1]!.toLowerCase()
    const value = match[2]!
    if (scheme === "bearer") return fromBearer(value)
    if (scheme === "basic") {
      const decoded = decodeBase64(value)
      if (decoded === undefined) return malformed("the Basic credentials are not base64")
      const colon = decoded.indexOf(":")
      if (colon <= 0) return malformed("the Basic credentials are not client_id:client_secret")
      // RFC 6749 §2.3.1: both halves are form-urlencoded before base64 (OAuth libraries send
      // `ss3c%5F…`); our alphabet needs no encoding, so unencoded values decode to themselves.
      const clientId = formDecode(decoded.slice(0, colon))
      const clientSecret = formDecode(decoded.slice(colon + 1))
      if (clientId === undefined || clientSecret === undefined) {
        return malformed("the Basic credentials are not form-urlencoded")
      }
      return { _tag: "Presented", presented: { _tag: "ClientCredentials", clientId, clientSecret } }
    }
    return malformed("the Authorization scheme must be Bearer or Basic")
  }
  if (apiKey !== undefined && apiKey.trim() !== "") {
    if (apiKey.length > maxLength) return malformed("the X-API-Key header is too long")
    const key = apiKey.trim()
    return key.startsWith(apiKeyPrefix)
      ? { _tag: "Presented", presented: { _tag: "ApiKey", key } }
      : malformed("the X-API-Key header is not an API key")
  }
  return { _tag: "Missing" }
}
