import { Clock, Effect, Either, Encoding, Redacted } from "effect"
import type { HttpOut } from "../../../../services/HttpOut.ts"
import type { ConnectorError } from "../../ConnectorAdapter.ts"
import { requireCredential } from "../../marketplace/credentials.ts"
import { marketplaceCall, type MarketplaceRequest } from "../../marketplace/http.ts"
import { isRecord } from "../../marketplace/json.ts"
import { type AccessToken, requestToken } from "../../marketplace/oauth.ts"
import { describeGoogleError, isQuotaError, misconfigured } from "./errors.ts"
import { type GoogleContext, rates } from "./settings.ts"

/**
 * A service account, the OAuth 2.0 JWT bearer grant (RFC 7523): an RS256 JWT
 * `{iss: client_email, scope: …/auth/content, aud: tokenUrl, iat, exp: iat +
 * 3600}` is exchanged at `tokenUrl` for an access token, cached in the
 * config's token cache and sent as `Authorization: Bearer …`. Signed with
 * WebCrypto: `globalThis.crypto` is Node's crypto (`require("node:crypto").webcrypto`),
 * and it keeps this module free of Node-only imports.
 */

const scope = "https://www.googleapis.com/auth/content"
const tokenLifetimeSeconds = 3600

export interface ServiceAccount {
  readonly clientEmail: string
  readonly privateKeyPem: Redacted.Redacted<string>
}

/**
 * `api-key` is the service account's `client_email`, `api-secret` its PKCS#8
 * PEM private key. The key may also arrive with its newlines escaped (`\n`, as
 * in the JSON key file), or as the whole JSON key file (its `private_key` is used).
 */
export const loadServiceAccount = (context: GoogleContext): Effect.Effect<ServiceAccount, ConnectorError> =>
  Effect.gen(function*() {
    const email = Redacted.value(yield* requireCredential(context, "api-key")).trim()
    let secret = Redacted.value(yield* requireCredential(context, "api-secret")).trim()
    if (secret.startsWith("{")) {
      try {
        const parsed: unknown = JSON.parse(secret)
        if (isRecord(parsed) && typeof parsed.private_key === "string") secret = parsed.private_key
      } catch {
        // not JSON after all: judged as a PEM below
      }
    }
    if (email === "") return yield* Effect.fail(misconfigured("credential api-key (the service account's client_email) is empty"))
    return { clientEmail: email, privateKeyPem: Redacted.make(secret.replace(/\\n/g, "\n")) }
  })

const base64UrlJson = (value: unknown) => Encoding.encodeBase64Url(JSON.stringify(value))

/** The DER bytes of a `-----BEGIN PRIVATE KEY-----` block; the messages never quote the key. */
const pkcs8Der = (pem: string): Effect.Effect<Uint8Array, ConnectorError> => {
  if (pem.includes("-----BEGIN RSA PRIVATE KEY-----")) {
    return Effect.fail(misconfigured(
      "credential api-secret is a PKCS#1 key: give the PKCS#8 form (-----BEGIN PRIVATE KEY-----, openssl pkcs8 -topk8 -nocrypt)"
    ))
  }
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem)
  if (match === null || match[1] === undefined) {
    return Effect.fail(misconfigured("credential api-secret is not a PEM private key (-----BEGIN PRIVATE KEY-----)"))
  }
  return Either.match(Encoding.decodeBase64(match[1].replace(/\s+/g, "")), {
    onLeft: () => Effect.fail(misconfigured("credential api-secret is not a valid PEM private key (bad base64)")),
    onRight: Effect.succeed
  })
}

const signAssertion = (
  account: ServiceAccount,
  audience: string,
  issuedAtSeconds: number
): Effect.Effect<string, ConnectorError> =>
  Effect.gen(function*() {
    const der = yield* pkcs8Der(Redacted.value(account.privateKeyPem))
    const key = yield* Effect.tryPromise({
      try: () =>
        crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]),
      catch: () => misconfigured("credential api-secret is not a usable PKCS#8 RSA private key")
    })
    const signingInput = `${base64UrlJson({ alg: "RS256", typ: "JWT" })}.${
      base64UrlJson({
        iss: account.clientEmail,
        scope,
        aud: audience,
        iat: issuedAtSeconds,
        exp: issuedAtSeconds + tokenLifetimeSeconds
      })
    }`
    const signature = yield* Effect.tryPromise({
      try: () => crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(signingInput)),
      catch: () => misconfigured("signing the token request with credential api-secret failed")
    })
    return `${signingInput}.${Encoding.encodeBase64Url(new Uint8Array(signature))}`
  })

const fetchToken = (context: GoogleContext, account: ServiceAccount): Effect.Effect<AccessToken, ConnectorError, HttpOut> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const assertion = yield* signAssertion(account, context.settings.tokenUrl, Math.floor(now / 1000))
    // invalid_grant (a wrong key, an unknown or disabled account, clock skew), invalid_scope, …: Misconfigured.
    return yield* requestToken(context, {
      method: "POST",
      url: context.settings.tokenUrl,
      form: { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion },
      ...rates.token
    }, { describeError: describeGoogleError, isThrottled: isQuotaError, defaultExpiresIn: tokenLifetimeSeconds })
  })

/** A Merchant API call with the cached token (a 401 refreshes it once, in `marketplaceCall`). */
export const googleCall = (context: GoogleContext, account: ServiceAccount, request: MarketplaceRequest) =>
  marketplaceCall(context, request, {
    token: context.tokens.get(fetchToken(context, account)),
    auth: (accessToken) => ({ authorization: `Bearer ${accessToken}` }),
    isThrottled: isQuotaError,
    describeError: describeGoogleError
  })
