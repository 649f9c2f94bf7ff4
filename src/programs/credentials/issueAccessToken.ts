import { Effect, Option } from "effect"
import { newAccessToken } from "../../domain/credentials/keys.ts"
import { parseCredentialHeaders } from "../../domain/credentials/presented.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { CryptoPrimitives } from "../../services/CryptoPrimitives.ts"
import { CredentialsRepo } from "../../services/CredentialsRepo.ts"
import { CredentialValidator } from "./CredentialValidator.ts"

export type TokenErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_grant_type"
  | "invalid_scope"

export interface TokenFailure {
  readonly _tag: "TokenFailure"
  readonly error: TokenErrorCode
  readonly description: string
  /** invalid_client after Basic authentication is answered with WWW-Authenticate (RFC 6749 §5.2). */
  readonly basicChallenge: boolean
}

const fail = (error: TokenErrorCode, description: string, basicChallenge = false) =>
  Effect.fail<TokenFailure>({ _tag: "TokenFailure", error, description, basicChallenge })

export interface TokenForm {
  readonly grant_type?: string | undefined
  readonly scope?: string | undefined
  readonly client_id?: string | undefined
  readonly client_secret?: string | undefined
}

/**
 * RFC 6749 §4.4 client credentials: the client authenticates with
 * client_secret_basic or client_secret_post (not both), may narrow its scopes,
 * and gets an opaque bearer token, stored only as its SHA-256 digest and bound
 * to the generation the client was verified under (a token requested while a
 * rotation commits is refused, never left valid).
 */
export const issueAccessToken = (authorization: string | undefined, form: TokenForm) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const validator = yield* CredentialValidator
    const primitives = yield* CryptoPrimitives

    if (form.grant_type === undefined || form.grant_type === "") {
      return yield* fail("invalid_request", "grant_type is missing")
    }
    const usesBasic = authorization !== undefined && /^\s*basic\s/i.test(authorization)
    if (usesBasic && form.client_secret !== undefined) {
      return yield* fail("invalid_request", "use one client authentication method, not two")
    }
    let clientId: string
    let clientSecret: string
    if (usesBasic) {
      const parsed = parseCredentialHeaders(authorization, undefined)
      if (parsed._tag !== "Presented" || parsed.presented._tag !== "ClientCredentials") {
        return yield* fail("invalid_client", "client authentication failed", true)
      }
      clientId = parsed.presented.clientId
      clientSecret = parsed.presented.clientSecret
    } else if (form.client_id !== undefined && form.client_secret !== undefined) {
      clientId = form.client_id
      clientSecret = form.client_secret
    } else {
      return yield* fail("invalid_client", "client authentication is missing", true)
    }

    const verdict = yield* validator.validate({ _tag: "ClientCredentials", clientId, clientSecret })
    if (verdict._tag !== "Valid") return yield* fail("invalid_client", "client authentication failed", usesBasic)
    const client = verdict.credential

    if (form.grant_type !== "client_credentials") {
      return yield* fail("unsupported_grant_type", "only client_credentials is supported")
    }
    const requested = (form.scope ?? "").split(" ").filter((s) => s.length > 0)
    const unknown = requested.filter((s) => !client.scopes.includes(s))
    if (unknown.length > 0) {
      return yield* fail("invalid_scope", `not granted to this client: ${unknown.join(" ")}`)
    }
    const scopes = requested.length > 0 ? [...new Set(requested)] : client.scopes

    const token = newAccessToken()
    const ttlSeconds = config.credentials.accessTokenTtlSeconds
    const minted = yield* (yield* CredentialsRepo).insertAccessToken({
      digest: primitives.sha256Hex(token),
      credentialId: client.credentialId,
      generation: client.generation,
      storeId: client.storeId,
      scopes,
      ttlSeconds
    })
    // Revoked or rotated since the secret was checked.
    if (Option.isNone(minted)) return yield* fail("invalid_client", "client authentication failed", usesBasic)
    return { access_token: token, token_type: "Bearer" as const, expires_in: ttlSeconds, scope: scopes.join(" ") }
  })
