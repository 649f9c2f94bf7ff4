/**
 * Property tests: whatever a client sends as a credential, the gateway answers
 * 200, 400 or 401, never a 500 — through the real HTTP server and the real
 * validator on PostgreSQL; and the header parser is total.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { randomUUID } from "node:crypto"
import { Agent, request } from "undici"
import { newAccessToken, newClientId } from "../../src/domain/credentials/keys.ts"
import { parseCredentialHeaders } from "../../src/domain/credentials/presented.ts"
import { adminToken, baseUrl, TestApp } from "../support/app.ts"
import { basic, issue, type IssuedCredential, newSecret, newStoreId, tokenRequest } from "./helpers.ts"

const prefix = `cred-fuzz-${randomUUID().slice(0, 8)}`
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/** A header can carry bytes, not characters: any string, sent as its UTF-8 bytes. */
const asBytes = (text: string) => Buffer.from(text, "utf8").toString("latin1")
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

const base62 = (constraints: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: fc.constantFrom(...alphabet), ...constraints })
/** Fresh well-formed credentials of nobody (right checksums): they reach the database and bcrypt. */
const unknownApiKey = fc.noShrink(fc.nat()).map(() => newSecret("API_KEY", newClientId("API_KEY")).presented)
const unknownClient = fc.noShrink(fc.nat()).map(() => {
  const clientId = newClientId("OAUTH_CLIENT")
  return [clientId, newSecret("OAUTH_CLIENT", clientId).presented] as const
})

/** Things that look more or less like our credentials. */
const credentialish = fc.oneof(
  base62().map((s) => `ss3k_${s}`),
  fc.tuple(base62({ minLength: 16, maxLength: 16 }), base62({ minLength: 38, maxLength: 38 })).map(([id, s]) => `ss3k_${id}_${s}`),
  unknownApiKey,
  fc.string({ maxLength: 60 }).map((s) => `ss3t_${s}`),
  fc.noShrink(fc.nat()).map(() => newAccessToken()),
  fc.stringMatching(/^ss3t_[0-9A-Za-z_-]{43}$/),
  base62().map((s) => `ss3s_${s}`),
  base62().map((s) => `ss3c_${s}`),
  fc.string({ unit: "binary", maxLength: 80 }).map(asBytes)
)

const basicPayload = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("base64")),
  fc.tuple(credentialish, credentialish).map(([id, secret]) => b64(`${id}:${secret}`)),
  unknownClient.map(([id, secret]) => b64(`${id}:${secret}`)),
  fc.tuple(base62({ minLength: 16, maxLength: 16 }), base62({ minLength: 38, maxLength: 38 }))
    .map(([id, secret]) => b64(`ss3c_${id}:ss3s_${secret}`)),
  fc.string({ unit: "binary", maxLength: 100 }).map((s) => b64(s)),
  fc.string({ maxLength: 100 })
)

const authorization = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 300 }).map(asBytes),
  fc.string({ unit: "grapheme", maxLength: 100 }).map(asBytes),
  fc.string({ minLength: 1000, maxLength: 6000 }),
  {
    weight: 6,
    arbitrary: fc.tuple(
      fc.constantFrom("Bearer", "bearer", "BEARER", "Basic", "basic", "Token", "Digest", ""),
      fc.constantFrom(" ", " ", " ", "  ", "\t", ""),
      fc.oneof(credentialish, basicPayload),
      fc.constantFrom("", "", "", " ", " extra")
    ).map(([scheme, space, value, tail]) => `${scheme}${space}${value}${tail}`)
  },
  // Well-formed and of nobody: they reach the database and bcrypt.
  { weight: 2, arbitrary: unknownApiKey.map((key) => `Bearer ${key}`) },
  { weight: 2, arbitrary: unknownClient.map(([id, secret]) => `Basic ${b64(`${id}:${secret}`)}`) }
)

const apiKeyHeader = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 300 }).map(asBytes),
  credentialish,
  fc.string({ minLength: 1000, maxLength: 6000 })
)

const headerSets = fc.record(
  { authorization, "x-api-key": apiKeyHeader },
  { requiredKeys: [] }
)

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 })

/** What HTTP allows in a header value (and undici sends): tab, visible ASCII, space, obs-text. */
const unsendable = /[^\t\x20-\x7e\x80-\xff]/

/**
 * A request with exactly these header bytes; undefined when HTTP cannot carry them (CR, LF, NUL, …).
 * Those are weeded out here: undici 7.30 refuses them with UND_ERR_INVALID_ARG, but after as many
 * refusals as the pool has connections, its Agent leaves every later request pending forever.
 */
const send = async (base: string, path: string, headers: Record<string, string>, init: { method?: "GET" | "POST"; body?: string } = {}) =>
  Object.values(headers).some((value) => unsendable.test(value)) ? undefined : request(`${base}${path}`, {
    dispatcher: agent,
    method: init.method ?? "GET",
    headers,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
    ...(init.body === undefined ? {} : { body: init.body })
  })
    .then(async (response) => ({ status: response.statusCode, text: await response.body.text() }))
    .catch((error: unknown) => {
      // undici refuses header values it may not send (CR, LF, NUL, …) before sending anything.
      if ((error as { code?: unknown }).code === "UND_ERR_INVALID_ARG") return undefined
      throw new Error(`${path} with ${JSON.stringify(headers).slice(0, 300)}: ${String(error)}`)
    })

describe("parseCredentialHeaders (pure)", () => {
  it("is total: any strings in, Presented, Missing or Malformed out", () => {
    const anyString = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), // lone surrogates too
      authorization,
      apiKeyHeader
    )
    fc.assert(
      fc.property(fc.option(anyString, { nil: undefined }), fc.option(anyString, { nil: undefined }), (auth, key) => {
        const parsed = parseCredentialHeaders(auth, key)
        expect(["Presented", "Missing", "Malformed"]).toContain(parsed._tag)
        if (parsed._tag === "Malformed") expect(parsed.reason.length).toBeGreaterThan(0)
      }),
      { numRuns: 20_000 }
    )
  })
})

describe("fuzzing the real endpoints (real PostgreSQL)", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("GET /credentials/validate: thousands of random header values, only 200/400/401 (200 only for a real credential)", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const storeId = newStoreId()
        const key = yield* issue(storeId, { type: "API_KEY", scopes: ["orders:read"] })
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT", scopes: ["orders:read"] })
        const known = new Set([key.id, client.id])
        const statuses = new Map<number, number>()
        let unsendable = 0

        const check = async (headers: Record<string, string>) => {
          const response = await send(base, "/credentials/validate", headers)
          if (response === undefined) {
            unsendable++
            return
          }
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
          expect([200, 400, 401], `${response.status} for ${JSON.stringify(headers).slice(0, 300)}: ${response.text.slice(0, 200)}`)
            .toContain(response.status)
          const body = JSON.parse(response.text)
          expect(body.valid).toBe(response.status === 200)
          if (response.status === 200) expect(known.has(body.credentialId)).toBe(true)
        }

        yield* Effect.promise(() =>
          fc.assert(fc.asyncProperty(headerSets, check), { numRuns: 3000, endOnFailure: true })
        )
        // A real key with one character changed never validates; unchanged, it does.
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(
              fc.constantFrom<IssuedCredential>(key, client),
              fc.nat(),
              fc.constantFrom(...alphabet, "_", "-", " ", "%", "é"),
              async (credential, at, char) => {
                const secret = credential.secret
                const i = at % secret.length
                const mutated = `${secret.slice(0, i)}${char}${secret.slice(i + 1)}`
                const headers = credential.type === "API_KEY"
                  ? { authorization: `Bearer ${asBytes(mutated)}` }
                  : { authorization: basic(credential.clientId, mutated) }
                const response = await send(base, "/credentials/validate", headers)
                expect(response).toBeDefined()
                statuses.set(response!.status, (statuses.get(response!.status) ?? 0) + 1)
                if (mutated === secret) expect(response!.status).toBe(200)
                else expect([400, 401], `${mutated}: ${response!.text}`).toContain(response!.status)
              }
            ),
            { numRuns: 1000 }
          )
        )
        console.log(`validate fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}, not sendable: ${unsendable}`)
        expect(statuses.get(400) ?? 0).toBeGreaterThan(500)
        expect(statuses.get(401) ?? 0).toBeGreaterThan(300)
        expect(statuses.get(200) ?? 0).toBeGreaterThan(0)
        expect(unsendable).toBeLessThan(300)
      }), 180_000)

    it.effect("POST /oauth/token: random forms and client authentication, only 200/400/401", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const storeId = newStoreId()
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT", scopes: ["orders:read", "catalog:read"] })
        expect((yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.secret) })).status)
          .toBe(200)
        const field = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: "binary", maxLength: 80 }), credentialish)
        const form = fc.record({
          grant_type: fc.oneof(fc.constantFrom("client_credentials", "password", ""), field),
          scope: fc.oneof(fc.constantFrom("orders:read", "catalog:read orders:read", "webhooks:manage", ""), field),
          client_id: fc.oneof(fc.constant(client.clientId), field),
          client_secret: fc.oneof(fc.constant(client.secret), field)
        }, { requiredKeys: [] })
        const statuses = new Map<number, number>()
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(form, fc.option(authorization, { nil: undefined }), fc.boolean(), async (fields, auth, jsonBody) => {
              const body = jsonBody ? JSON.stringify(fields) : new URLSearchParams(fields as Record<string, string>).toString()
              const headers: Record<string, string> = {
                "content-type": jsonBody ? "application/json" : "application/x-www-form-urlencoded",
                ...(auth === undefined ? {} : { authorization: auth })
              }
              const response = await send(base, "/oauth/token", headers, { method: "POST", body })
              if (response === undefined) return
              statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
              expect([200, 400, 401], `${response.status}: ${response.text.slice(0, 200)}`).toContain(response.status)
              expect(typeof JSON.parse(response.text)).toBe("object")
            }),
            { numRuns: 1000 }
          )
        )
        console.log(`token fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
      }), 120_000)

    it.effect("the webhook routes' credential check: random bearer tokens and store ids, only 200/401/403/404 (never 500)", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const storeId = newStoreId()
        const manager = yield* issue(storeId, { type: "API_KEY", scopes: ["webhooks:manage"] })
        const token = fc.oneof(credentialish, fc.constant(manager.secret), fc.constant(adminToken), fc.string({ maxLength: 100 }))
        const store = fc.oneof(fc.constant(storeId), fc.constant(newStoreId()), fc.stringMatching(/^[A-Za-z0-9._:%-]{1,40}$/))
        const statuses = new Map<number, number>()
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(token, store, async (t, s) => {
              const response = await send(base, `/stores/${s}/webhooks`, { authorization: `Bearer ${asBytes(t)}` })
              if (response === undefined) return
              statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
              expect([200, 400, 401, 403, 404], `${response.status} for ${t} on ${s}: ${response.text.slice(0, 200)}`)
                .toContain(response.status)
            }),
            { numRuns: 1000 }
          )
        )
        console.log(`webhook auth fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
      }), 120_000)
  })
})
