/**
 * POST /oauth/token (RFC 6749 §4.4 client credentials): by hand, every error
 * of §5.2 we answer, and with a real OAuth client library (openid-client).
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import * as oidc from "openid-client"
import { adminFetch, baseUrl, TestApp } from "../support/app.ts"
import { basic, issue, newSecret, newStoreId, tokenRequest, validate } from "./helpers.ts"

const prefix = `cred-oauth-${randomUUID().slice(0, 8)}`

const expectTokenError = (
  response: { status: number; body: any; headers: Headers },
  status: number,
  error: string
) => {
  expect(response.status, JSON.stringify(response.body)).toBe(status)
  expect(response.body.error).toBe(error)
  expect(typeof response.body.error_description).toBe("string")
  expect(response.headers.get("cache-control")).toBe("no-store")
}

describe("POST /oauth/token", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("client_secret_basic and client_secret_post both issue a Bearer token that validates (no-store)", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT", scopes: ["orders:read", "catalog:read"] })

        const viaBasic = yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.secret) })
        // RFC 6749 §2.3.1: the client_id and secret are form-urlencoded before base64 (`_` → `%5F`).
        const encoded = (text: string) => encodeURIComponent(text).replace(/_/g, "%5F")
        const viaEncodedBasic = yield* tokenRequest({ grant_type: "client_credentials" }, {
          authorization: basic(encoded(client.clientId), encoded(client.secret))
        })
        const viaPost = yield* tokenRequest({ grant_type: "client_credentials", client_id: client.clientId, client_secret: client.secret })
        for (const response of [viaBasic, viaEncodedBasic, viaPost]) {
          expect(response.status, JSON.stringify(response.body)).toBe(200)
          expect(response.headers.get("cache-control")).toBe("no-store")
          expect(response.headers.get("content-type")).toMatch(/^application\/json/)
          expect(response.body).toEqual({
            access_token: expect.stringMatching(/^ss3t_[0-9A-Za-z_-]{43}$/),
            token_type: "Bearer",
            expires_in: 3600,
            scope: "orders:read catalog:read"
          })
          const valid = yield* validate({ authorization: `Bearer ${response.body.access_token}` })
          expect(valid.status).toBe(200)
          expect(valid.body).toEqual({
            valid: true,
            storeId,
            scopes: ["orders:read", "catalog:read"],
            credentialId: client.id,
            type: "OAUTH_CLIENT"
          })
        }
        expect(viaBasic.body.access_token).not.toBe(viaPost.body.access_token)
      }))

    it.effect("scope narrows the token to a subset; a scope the client lacks is invalid_scope", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT", scopes: ["orders:read", "catalog:read", "inventory:read"] })
        const auth = { authorization: basic(client.clientId, client.secret) }

        const narrowed = yield* tokenRequest({ grant_type: "client_credentials", scope: "catalog:read  orders:read" }, auth)
        expect(narrowed.status).toBe(200)
        expect(narrowed.body.scope).toBe("catalog:read orders:read")
        const valid = yield* validate({ authorization: `Bearer ${narrowed.body.access_token}` })
        expect(valid.body.scopes).toEqual(["catalog:read", "orders:read"])

        for (const scope of ["webhooks:manage", "orders:read webhooks:manage", "orders:write", "ORDERS:READ"]) {
          expectTokenError(yield* tokenRequest({ grant_type: "client_credentials", scope }, auth), 400, "invalid_scope")
        }
      }))

    it.effect("grant types and request errors: unsupported_grant_type, invalid_request", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const auth = { authorization: basic(client.clientId, client.secret) }

        for (const grant_type of ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"]) {
          expectTokenError(yield* tokenRequest({ grant_type }, auth), 400, "unsupported_grant_type")
        }
        expectTokenError(yield* tokenRequest({}, auth), 400, "invalid_request")
        expectTokenError(yield* tokenRequest({ grant_type: "" }, auth), 400, "invalid_request")
        expectTokenError(yield* tokenRequest({ scope: "orders:read" }, auth), 400, "invalid_request")
        // Both authentication methods at once.
        expectTokenError(
          yield* tokenRequest({ grant_type: "client_credentials", client_id: client.clientId, client_secret: client.secret }, auth),
          400,
          "invalid_request"
        )
      }))

    it.effect("failed client authentication is 401 invalid_client (with WWW-Authenticate after Basic)", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const key = yield* issue(storeId, { type: "API_KEY" })
        const wrong = newSecret("OAUTH_CLIENT", client.clientId).presented

        const basicWrong = yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, wrong) })
        expectTokenError(basicWrong, 401, "invalid_client")
        expect(basicWrong.headers.get("www-authenticate")).toMatch(/^Basic realm=/)

        const postWrong = yield* tokenRequest({ grant_type: "client_credentials", client_id: client.clientId, client_secret: wrong })
        expectTokenError(postWrong, 401, "invalid_client")

        for (const [label, form, headers] of [
          ["no client authentication", { grant_type: "client_credentials" }, {}],
          ["client_id without a secret", { grant_type: "client_credentials", client_id: client.clientId }, {}],
          ["garbage Basic", { grant_type: "client_credentials" }, { authorization: "Basic %%%" }],
          ["an API key as client credentials", { grant_type: "client_credentials", client_id: key.clientId, client_secret: key.secret }, {}],
          ["a malformed client secret", { grant_type: "client_credentials", client_id: client.clientId, client_secret: "hunter2" }, {}]
        ] as const) {
          const response = yield* tokenRequest(form, headers)
          expect(response.status, label).toBe(401)
          expect(response.body.error, label).toBe("invalid_client")
        }

        // A revoked client cannot obtain a token.
        expect((yield* adminFetch(`/stores/${storeId}/credentials/${client.id}`, { method: "DELETE" })).status).toBe(200)
        expectTokenError(
          yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.secret) }),
          401,
          "invalid_client"
        )
      }))

    it.effect("a token stops validating when its client is revoked, and when the client's secret is rotated", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const revoked = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const rotated = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const tokenOf = (client: { clientId: string; secret: string }) =>
          tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.secret) }).pipe(
            Effect.map((r) => r.body.access_token as string)
          )
        const t1 = yield* tokenOf(revoked)
        const t2 = yield* tokenOf(rotated)
        for (const t of [t1, t2]) expect((yield* validate({ authorization: `Bearer ${t}` })).status).toBe(200)

        expect((yield* adminFetch(`/stores/${storeId}/credentials/${revoked.id}`, { method: "DELETE" })).status).toBe(200)
        expect((yield* validate({ authorization: `Bearer ${t1}` })).status).toBe(401)

        const renewed = yield* adminFetch(`/stores/${storeId}/credentials/${rotated.id}/rotate`, { method: "POST" })
        expect(renewed.status).toBe(200)
        expect((yield* validate({ authorization: `Bearer ${t2}` })).status).toBe(401)
        const t3 = yield* tokenOf({ clientId: rotated.clientId, secret: renewed.body.secret })
        expect((yield* validate({ authorization: `Bearer ${t3}` })).status).toBe(200)
        expect((yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(rotated.clientId, rotated.secret) })).status)
          .toBe(401)
      }))

    it.effect("openid-client (a real OAuth 2.0 client library) obtains tokens with client_secret_post and client_secret_basic", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const storeId = newStoreId()
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT", scopes: ["orders:read", "inventory:read"] })
        const server = { issuer: base, token_endpoint: `${base}/oauth/token` }

        for (const auth of [oidc.ClientSecretPost(client.secret), oidc.ClientSecretBasic(client.secret)]) {
          const config = new oidc.Configuration(server, client.clientId, undefined, auth)
          oidc.allowInsecureRequests(config)

          const all = yield* Effect.promise(() => oidc.clientCredentialsGrant(config))
          expect(all.token_type.toLowerCase()).toBe("bearer")
          expect(all.scope).toBe("orders:read inventory:read")
          expect(all.expiresIn()).toBeGreaterThan(3500)
          const narrowed = yield* Effect.promise(() => oidc.clientCredentialsGrant(config, { scope: "inventory:read" }))
          expect(narrowed.scope).toBe("inventory:read")

          const valid = yield* validate({ authorization: `Bearer ${narrowed.access_token}` })
          expect(valid.status).toBe(200)
          expect(valid.body).toEqual({ valid: true, storeId, scopes: ["inventory:read"], credentialId: client.id, type: "OAUTH_CLIENT" })

          // The library reads our RFC 6749 §5.2 errors.
          const refused = yield* Effect.promise(() =>
            oidc.clientCredentialsGrant(config, { scope: "webhooks:manage" }).then(() => undefined, (e: unknown) => e)
          )
          expect(refused).toBeInstanceOf(oidc.ResponseBodyError)
          expect((refused as oidc.ResponseBodyError).error).toBe("invalid_scope")
        }

        const wrong = new oidc.Configuration(server, client.clientId, undefined, oidc.ClientSecretBasic(newSecret("OAUTH_CLIENT", client.clientId).presented))
        oidc.allowInsecureRequests(wrong)
        const refused = yield* Effect.promise(() => oidc.clientCredentialsGrant(wrong).then(() => undefined, (e: unknown) => e))
        // A 401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2) surfaces as the library's challenge error.
        expect(refused).toBeInstanceOf(oidc.WWWAuthenticateChallengeError)
        const challenge = refused as oidc.WWWAuthenticateChallengeError
        expect(challenge.status).toBe(401)
        expect(challenge.cause[0]).toMatchObject({ scheme: "basic", parameters: { realm: "integration-service" } })
        expect(yield* Effect.promise(() => challenge.response.json())).toMatchObject({ error: "invalid_client" })

        const wrongPost = new oidc.Configuration(server, client.clientId, undefined, oidc.ClientSecretPost(newSecret("OAUTH_CLIENT", client.clientId).presented))
        oidc.allowInsecureRequests(wrongPost)
        const refusedPost = yield* Effect.promise(() => oidc.clientCredentialsGrant(wrongPost).then(() => undefined, (e: unknown) => e))
        expect(refusedPost).toBeInstanceOf(oidc.ResponseBodyError)
        expect((refusedPost as oidc.ResponseBodyError).error).toBe("invalid_client")
        expect((refusedPost as oidc.ResponseBodyError).status).toBe(401)
      }))
  })
})
