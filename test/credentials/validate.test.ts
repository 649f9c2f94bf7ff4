/**
 * GET /credentials/validate, every branch, through the real HTTP server on real
 * PostgreSQL (a database of this file's own), and how credentials are issued
 * and stored (POST/GET /stores/{storeId}/credentials).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import bcrypt from "bcrypt"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { newAccessToken, newClientId } from "../../src/domain/credentials/keys.ts"
import { adminFetch, adminToken, TestApp } from "../support/app.ts"
import {
  basic,
  credentialRow,
  issue,
  type IssuedCredential,
  newSecret,
  newStoreId,
  parseApiKey,
  presentHeaders,
  rawFetch,
  tokenRequest,
  validate
} from "./helpers.ts"

const prefix = `cred-validate-${randomUUID().slice(0, 8)}`

const expectValid = (
  response: { status: number; body: any; headers: Headers },
  credential: Pick<IssuedCredential, "id" | "storeId" | "type">,
  scopes: ReadonlyArray<string>
) => {
  expect(response.status, JSON.stringify(response.body)).toBe(200)
  expect(response.headers.get("cache-control")).toBe("private, max-age=60")
  expect(response.body).toEqual({
    valid: true,
    storeId: credential.storeId,
    scopes: [...scopes],
    credentialId: credential.id,
    type: credential.type
  })
}

const expectInvalid = (response: { status: number; body: any }, label = "") => {
  expect(response.status, `${label} ${JSON.stringify(response.body)}`).toBe(401)
  expect(response.body).toEqual({ valid: false })
}

const expectMalformed = (response: { status: number; body: any }, label = "") => {
  expect(response.status, `${label} ${JSON.stringify(response.body)}`).toBe(400)
  expect(response.body).toMatchObject({ valid: false, error: "invalid_request" })
  expect(typeof response.body.message).toBe("string")
}

/** application/x-www-form-urlencoded as strict OAuth clients apply it (every non-alphanumeric escaped). */
const formEncode = (text: string) => text.replace(/[^0-9A-Za-z]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`)

/** The 32-character part of a credential's secret that bcrypt hashes. */
const secretBody = (credential: IssuedCredential) =>
  credential.type === "API_KEY"
    ? credential.secret.slice(credential.clientId.length + 1, -6)
    : credential.secret.slice("ss3s_".length, -6)

describe("GET /credentials/validate (real PostgreSQL)", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("a valid credential in each header form: 200, private max-age=60, {valid, storeId, scopes, credentialId, type}", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const key = yield* issue(storeId, { type: "API_KEY", scopes: ["orders:read", "catalog:read"] })
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT", scopes: ["inventory:read", "inventory:write"] })
        expect(key.secret).toMatch(/^ss3k_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}$/)
        expect(key.secret.startsWith(`${key.clientId}_`)).toBe(true)
        expect(client.clientId).toMatch(/^ss3c_[0-9A-Za-z]{16}$/)
        expect(client.secret).toMatch(/^ss3s_[0-9A-Za-z]{38}$/)

        // Twice each: the first answer comes from bcrypt and the database, the second from the cache.
        for (let round = 0; round < 2; round++) {
          expectValid(yield* validate({ authorization: `Bearer ${key.secret}` }), key, ["orders:read", "catalog:read"])
          expectValid(yield* validate({ "x-api-key": key.secret }), key, ["orders:read", "catalog:read"])
          expectValid(yield* validate({ authorization: `bearer   ${key.secret}  ` }), key, ["orders:read", "catalog:read"])
          expectValid(yield* validate({ authorization: basic(client.clientId, client.secret) }), client, ["inventory:read", "inventory:write"])
          // RFC 6749 §2.3.1 form-urlencodes both halves first, as OAuth libraries do (`_` → `%5F`).
          expectValid(
            yield* validate({ authorization: basic(formEncode(client.clientId), formEncode(client.secret)) }),
            client,
            ["inventory:read", "inventory:write"]
          )
        }

        const token = yield* tokenRequest({ grant_type: "client_credentials", scope: "inventory:read" }, {
          authorization: basic(client.clientId, client.secret)
        })
        expect(token.status, JSON.stringify(token.body)).toBe(200)
        for (let round = 0; round < 2; round++) {
          expectValid(yield* validate({ authorization: `Bearer ${token.body.access_token}` }), client, ["inventory:read"])
        }
        // Authorization wins over X-API-Key when both are sent.
        expectValid(
          yield* validate({ authorization: basic(client.clientId, client.secret), "x-api-key": key.secret }),
          client,
          ["inventory:read", "inventory:write"]
        )
      }))

    it.effect("a wrong secret with a correct checksum is 401 {valid:false} (API key and OAuth client, cold and after a cached success)", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const key = yield* issue(storeId, { type: "API_KEY" })
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const wrongKey = newSecret("API_KEY", key.clientId).presented
        const wrongClientSecret = newSecret("OAUTH_CLIENT", client.clientId).presented
        // Well-formed: the checksum is right, so this reaches bcrypt.
        expect(parseApiKey(wrongKey)._tag).toBe("Some")

        expectInvalid(yield* validate({ authorization: `Bearer ${wrongKey}` }), "wrong key, cold")
        expectInvalid(yield* validate({ "x-api-key": wrongKey }), "wrong key in X-API-Key, cold")
        expectInvalid(yield* validate({ authorization: basic(client.clientId, wrongClientSecret) }), "wrong client secret, cold")

        expectValid(yield* validate(presentHeaders(key)), key, ["orders:read"])
        expectValid(yield* validate(presentHeaders(client)), client, ["orders:read"])
        expectInvalid(yield* validate({ authorization: `Bearer ${wrongKey}` }), "wrong key, after a cached success")
        expectInvalid(yield* validate({ authorization: basic(client.clientId, wrongClientSecret) }), "wrong client secret, after a cached success")
        // The client secret of one OAuth client under another's client_id.
        const other = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        expectInvalid(yield* validate({ authorization: basic(client.clientId, other.secret) }), "another client's secret")
        // An API key's credentials presented as Basic: not an OAuth client id at all.
        expectMalformed(yield* validate({ authorization: basic(key.clientId, key.secret) }), "API key as Basic")
        const invalid = yield* validate({ authorization: `Bearer ${wrongKey}` })
        expect(invalid.headers.get("cache-control")).toBe("no-store")
      }))

    it.effect("an unknown client_id (well-formed) and an unknown access token are 401", () =>
      Effect.gen(function*() {
        const unknownKey = newSecret("API_KEY", newClientId("API_KEY")).presented
        const unknownClient = newSecret("OAUTH_CLIENT", newClientId("OAUTH_CLIENT"))
        expectInvalid(yield* validate({ authorization: `Bearer ${unknownKey}` }), "unknown key")
        expectInvalid(yield* validate({ "x-api-key": unknownKey }), "unknown key in X-API-Key")
        expectInvalid(yield* validate({ authorization: basic(unknownClient.clientId, unknownClient.presented) }), "unknown client")
        expectInvalid(yield* validate({ authorization: `Bearer ${newAccessToken()}` }), "unknown access token")
      }))

    it.effect("a revoked credential is 401 at once, as are its access tokens", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const key = yield* issue(storeId, { type: "API_KEY" })
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const token = yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.secret) })
        expectValid(yield* validate(presentHeaders(key)), key, ["orders:read"])
        expectValid(yield* validate(presentHeaders(client)), client, ["orders:read"])
        expectValid(yield* validate({ authorization: `Bearer ${token.body.access_token}` }), client, ["orders:read"])

        expect((yield* adminFetch(`/stores/${storeId}/credentials/${key.id}`, { method: "DELETE" })).status).toBe(200)
        expect((yield* adminFetch(`/stores/${storeId}/credentials/${client.id}`, { method: "DELETE" })).status).toBe(200)
        expectInvalid(yield* validate(presentHeaders(key)), "revoked key")
        expectInvalid(yield* validate({ "x-api-key": key.secret }), "revoked key in X-API-Key")
        expectInvalid(yield* validate(presentHeaders(client)), "revoked client")
        expectInvalid(yield* validate({ authorization: `Bearer ${token.body.access_token}` }), "token of a revoked client")
        const shown = yield* adminFetch(`/stores/${storeId}/credentials/${key.id}`)
        expect(shown.body.isActive).toBe(false)
      }))

    it.effect("an expired credential or access token is 401 (expiry in the database, and expiry reached while cached)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const storeId = newStoreId()
        const inAnHour = new Date(Date.now() + 3_600_000).toISOString()
        const key = yield* issue(storeId, { type: "API_KEY", expiresAt: inAnHour })
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT", expiresAt: inAnHour })
        // A second client that obtains a token (which validates, hence caches, its Basic credentials).
        const tokenClient = yield* issue(storeId, { type: "OAUTH_CLIENT", expiresAt: inAnHour })
        expect(key.expiresAt).toBe(inAnHour)
        const token = yield* tokenRequest({ grant_type: "client_credentials" }, {
          authorization: basic(tokenClient.clientId, tokenClient.secret)
        })
        expect(token.status).toBe(200)
        // Expired behind the service's back (the API has no "expire now"): nothing of these was validated since.
        yield* sql`UPDATE api_credentials SET expires_at = now() - interval '1 minute'
                   WHERE credential_id IN (${key.id}, ${client.id}, ${tokenClient.id})`
        expectInvalid(yield* validate(presentHeaders(key)), "expired key")
        expectInvalid(yield* validate({ "x-api-key": key.secret }), "expired key in X-API-Key")
        expectInvalid(yield* validate(presentHeaders(client)), "expired client")
        expectInvalid(yield* validate({ authorization: `Bearer ${token.body.access_token}` }), "token of an expired client")

        // An access token past its own expiry.
        const live = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const shortLived = yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(live.clientId, live.secret) })
        yield* sql`UPDATE oauth_access_tokens SET expires_at = now() - interval '1 second' WHERE credential_id = ${live.id}`
        expectInvalid(yield* validate({ authorization: `Bearer ${shortLived.body.access_token}` }), "expired token")
        expectValid(yield* validate(presentHeaders(live)), live, ["orders:read"])
        // Expiry while cached is tested on a TestClock (clockTime.test.ts).
      }))

    it.effect("malformed credentials are 400 before any lookup: bad checksum, wrong prefix, wrong shape, garbage Basic", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const key = yield* issue(storeId, { type: "API_KEY" })
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const flip = (s: string) => s.slice(0, -1) + (s.endsWith("A") ? "B" : "A")
        const badChecksumKey = flip(key.secret)
        const badChecksumSecret = flip(client.secret)
        const cases: Array<[string, Record<string, string>]> = [
          ["API key with a bad checksum", { authorization: `Bearer ${badChecksumKey}` }],
          ["API key with a bad checksum in X-API-Key", { "x-api-key": badChecksumKey }],
          ["truncated API key", { authorization: `Bearer ${key.secret.slice(0, -1)}` }],
          ["API key with an extra character", { authorization: `Bearer ${key.secret}x` }],
          ["only the prefix", { authorization: "Bearer ss3k_" }],
          ["wrong prefix (another vendor's key)", { authorization: `Bearer sk_live_${key.secret.slice(5)}` }],
          ["wrong prefix in X-API-Key", { "x-api-key": `xx3k_${key.secret.slice(5)}` }],
          ["an OAuth client secret as a bearer token", { authorization: `Bearer ${client.secret}` }],
          ["malformed access token", { authorization: "Bearer ss3t_tooShort" }],
          ["access token with a character outside its alphabet", { authorization: `Bearer ss3t_${"a".repeat(42)}!` }],
          ["Bearer without a token", { authorization: "Bearer" }],
          ["Bearer with two tokens", { authorization: `Bearer ${key.secret} ${key.secret}` }],
          ["unknown scheme", { authorization: `Token ${key.secret}` }],
          ["Digest", { authorization: "Digest username=\"x\"" }],
          ["Basic that is not base64", { authorization: "Basic !!!not-base64!!!" }],
          ["Basic with a bad base64 length", { authorization: "Basic abcde" }],
          ["Basic without a colon", { authorization: `Basic ${Buffer.from("no-colon-here").toString("base64")}` }],
          ["Basic with an empty client_id", { authorization: basic("", client.secret) }],
          ["Basic with a bad client_id", { authorization: basic("ss3c_short", client.secret) }],
          ["Basic with a bad secret checksum", { authorization: basic(client.clientId, badChecksumSecret) }],
          ["Basic with an empty secret", { authorization: basic(client.clientId, "") }],
          ["Basic with a broken percent escape", { authorization: basic(`${client.clientId}%`, client.secret) }],
          ["Basic of bytes that are not UTF-8", { authorization: `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString("base64")}` }],
          ["X-API-Key that is not an API key", { "x-api-key": "hello" }],
          ["X-API-Key that is an access token", { "x-api-key": newAccessToken() }],
          ["an overlong Authorization", { authorization: `Bearer ss3k_${"a".repeat(2000)}` }],
          ["an overlong X-API-Key", { "x-api-key": `ss3k_${"a".repeat(2000)}` }]
        ]
        for (const [label, headers] of cases) expectMalformed(yield* validate(headers), label)
      }))

    it.effect("no credential at all is 400", () =>
      Effect.gen(function*() {
        for (const headers of [{}, { authorization: "" }, { authorization: "   " }, { "x-api-key": "" }, { "x-api-key": "  " }]) {
          const response = yield* validate(headers)
          expectMalformed(response, JSON.stringify(headers))
          expect(response.body.message).toMatch(/no credential/)
        }
      }))
  })
})

describe("issuing and storing credentials (real PostgreSQL)", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}-store\\.`), groupId: `${prefix}-store`, isolatedDatabase: true, withoutWorkers: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("the secret is stored only as a bcrypt hash; neither the row nor list/show answers hold it", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const type of ["API_KEY", "OAUTH_CLIENT"] as const) {
          const credential = yield* issue(storeId, { type, scopes: ["webhooks:manage"] })
          const body = secretBody(credential)
          expect(body).toMatch(/^[0-9A-Za-z]{32}$/)
          const row = yield* credentialRow(credential.id)
          expect(row).toBeDefined()
          const hashed = row!["hashed_secret"] as string
          expect(hashed).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/)
          expect(yield* Effect.promise(() => bcrypt.compare(body, hashed))).toBe(true)
          expect(row!["client_id"]).toBe(credential.clientId)
          const stored = JSON.stringify(row)
          expect(stored).not.toContain(body)
          expect(stored).not.toContain(credential.secret)

          for (const path of [`/stores/${storeId}/credentials`, `/stores/${storeId}/credentials/${credential.id}`]) {
            const answer = yield* rawFetch(path, { headers: { authorization: `Bearer ${adminToken}` } })
            expect(answer.status).toBe(200)
            expect(answer.text).not.toContain(body)
            expect(answer.text).not.toContain(hashed)
            expect(answer.text).not.toContain("$2b$")
            expect(answer.text).not.toMatch(/"secret"|hashed/i)
          }
          const shown = yield* adminFetch(`/stores/${storeId}/credentials/${credential.id}`)
          const { secret: _secret, ...withoutSecret } = credential
          expect(shown.body).toEqual(withoutSecret)
        }
        const listed = yield* adminFetch(`/stores/${storeId}/credentials`)
        expect(listed.body.items.map((c: IssuedCredential) => c.type).sort()).toEqual(["API_KEY", "OAUTH_CLIENT"])
      }))

    it.effect("issue refuses bad input with a 400 naming the field", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const post = (body: unknown) => adminFetch(`/stores/${storeId}/credentials`, { method: "POST", body })
        const good = { name: "erp", type: "API_KEY", scopes: ["orders:read"] }
        const cases: Array<[string, unknown, RegExp]> = [
          ["unknown scope", { ...good, scopes: ["orders:read", "orders:delete"] }, /scopes/],
          ["no scopes", { ...good, scopes: [] }, /scopes/],
          ["expiresAt in the past", { ...good, expiresAt: new Date(Date.now() - 60_000).toISOString() }, /expiresAt/],
          ["expiresAt not a date", { ...good, expiresAt: "tomorrow" }, /expiresAt/],
          ["empty name", { ...good, name: "" }, /name/],
          ["blank name", { ...good, name: "   " }, /name/],
          ["missing name", { type: "API_KEY", scopes: ["orders:read"] }, /name/],
          ["unknown type", { ...good, type: "PASSWORD" }, /type/]
        ]
        for (const [label, body, field] of cases) {
          const response = yield* post(body)
          expect(response.status, `${label}: ${JSON.stringify(response.body)}`).toBe(400)
          expect(response.body.error).toBe("invalid_request")
          expect(response.body.message, label).toMatch(field)
        }
        expect((yield* adminFetch(`/stores/${storeId}/credentials`)).body.items).toEqual([])
      }))

    it.effect("created_by is the X-SS3-Actor header, else admin-token", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const byActor = yield* rawFetch(`/stores/${storeId}/credentials`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json", "x-ss3-actor": "alice@example.com" },
          body: JSON.stringify({ name: "erp", type: "API_KEY", scopes: ["orders:read"] })
        })
        expect(byActor.status).toBe(201)
        expect(byActor.body.createdBy).toBe("alice@example.com")
        expect((yield* credentialRow(byActor.body.id))!["created_by"]).toBe("alice@example.com")

        const byToken = yield* issue(storeId)
        expect(byToken.createdBy).toBe("admin-token")
        expect((yield* credentialRow(byToken.id))!["created_by"]).toBe("admin-token")

        const badActor = yield* rawFetch(`/stores/${storeId}/credentials`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json", "x-ss3-actor": "alice smith" },
          body: JSON.stringify({ name: "erp", type: "API_KEY", scopes: ["orders:read"] })
        })
        expect(badActor.status).toBe(400)
      }))
  })
})
