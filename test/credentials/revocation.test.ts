/**
 * Revocation is final: once DELETE or rotate has answered, the old secret and
 * every token minted from it are refused — from a cache, from a verification
 * that was in flight (bcrypt held at a gate while the change commits), through
 * a token requested during the rotation — on this instance and, once the
 * notification arrives, on another one on the same database (its propagation
 * measured as `credential_revocation_propagation_seconds`).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it, layer } from "@effect/vitest"
import { type Context, Effect, Fiber, Layer, Metric, Option, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import { revocationPropagation } from "../../src/programs/credentials/credentialChanges.ts"
import { makeCredentialsRepoSql } from "../../src/layers/CredentialsRepoSql.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { freshDatabase, migratedDbLive, TestDbLive } from "../support/db.ts"
import { eventually } from "../support/eventually.ts"
import { GatedHasher, makeGate } from "./gatedHasher.ts"
import {
  basic,
  credentialRow,
  type IssuedCredential,
  issue,
  newStoreId,
  presentHeaders,
  rawFetch,
  tokenRequest,
  validate
} from "./helpers.ts"

const prefix = `cred-revoke-${randomUUID().slice(0, 8)}`
const appOptions = (name: string) => ({
  eventTopics: new RegExp(`^${prefix}-${name}\\.`),
  groupId: `${prefix}-${name}`,
  withoutWorkers: true
})

const revoke = (c: IssuedCredential) => adminFetch(`/stores/${c.storeId}/credentials/${c.id}`, { method: "DELETE" })
const rotate = (c: IssuedCredential) => adminFetch(`/stores/${c.storeId}/credentials/${c.id}/rotate`, { method: "POST" })
const clientToken = (c: IssuedCredential) => tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(c.clientId, c.secret) })

const gate = makeGate()

describe("one instance: a verification in flight during the change", () => {
  layer(TestApp({ ...appOptions("one"), isolatedDatabase: true, passwordHasher: GatedHasher(gate) }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("revoke while bcrypt runs: that validation is 401, and so is every later one (nothing was cached)", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const type of ["API_KEY", "OAUTH_CLIENT"] as const) {
          const credential = yield* issue(storeId, { type })
          gate.hold()
          const inFlight = yield* Effect.fork(validate(presentHeaders(credential)))
          yield* gate.awaitArrivals(1)
          expect((yield* revoke(credential)).status).toBe(200)
          gate.release()
          expect((yield* Fiber.join(inFlight)).status, type).toBe(401)
          for (let i = 0; i < 3; i++) expect((yield* validate(presentHeaders(credential))).status).toBe(401)
        }
      }))

    it.effect("rotate while bcrypt runs: the old secret is 401 then and after; the new one is 200", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const type of ["API_KEY", "OAUTH_CLIENT"] as const) {
          const credential = yield* issue(storeId, { type })
          gate.hold()
          const inFlight = yield* Effect.fork(validate(presentHeaders(credential)))
          yield* gate.awaitArrivals(1)
          const rotated = yield* rotate(credential)
          expect(rotated.status).toBe(200)
          gate.release()
          expect((yield* Fiber.join(inFlight)).status, type).toBe(401)
          expect((yield* validate(presentHeaders(credential))).status).toBe(401)
          expect((yield* validate(presentHeaders({ ...credential, secret: rotated.body.secret }))).status).toBe(200)
          expect((yield* validate(presentHeaders(credential))).status).toBe(401)
        }
      }))

    it.effect("a token requested with the old secret while the rotation commits is refused (invalid_client), not minted", () =>
      Effect.gen(function*() {
        const client = yield* issue(newStoreId(), { type: "OAUTH_CLIENT" })
        gate.hold()
        const inFlight = yield* Effect.fork(clientToken(client))
        yield* gate.awaitArrivals(1)
        expect((yield* rotate(client)).status).toBe(200)
        gate.release()
        const answer = yield* Fiber.join(inFlight)
        expect(answer.status, JSON.stringify(answer.body)).toBe(401)
        expect(answer.body.error).toBe("invalid_client")
        const sql = yield* SqlClient
        const tokens = yield* sql`SELECT 1 FROM oauth_access_tokens WHERE credential_id = ${client.id}`
        expect(tokens).toHaveLength(0)
      }))

    it.effect("the database refuses a token for an older generation, and a token of an older generation never validates", () =>
      Effect.gen(function*() {
        const client = yield* issue(newStoreId(), { type: "OAUTH_CLIENT" })
        const token = (yield* clientToken(client)).body.access_token as string
        const row = yield* credentialRow(client.id)
        expect(row!["generation"]).toBe(1)
        // A rotation this instance never heard of (its notification lost) that left the token in place.
        const sql = yield* SqlClient
        yield* sql`UPDATE api_credentials SET generation = generation + 1 WHERE credential_id = ${client.id}`
        expect((yield* validate({ authorization: `Bearer ${token}` })).status).toBe(401)
        const minted = yield* (yield* makeCredentialsRepoSql).insertAccessToken({
          digest: randomUUID(),
          credentialId: client.id,
          generation: 1,
          storeId: client.storeId,
          scopes: ["orders:read"],
          ttlSeconds: 60
        })
        expect(Option.isNone(minted)).toBe(true)
        // Revoke and rotate raise it through the API as well.
        expect((yield* rotate(client)).status).toBe(200)
        expect((yield* credentialRow(client.id))!["generation"]).toBe(3)
        expect((yield* revoke(client)).status).toBe(200)
        expect((yield* credentialRow(client.id))!["generation"]).toBe(4)
      }))
  })
})

/** One instance of the service as a layer built in `scope`. */
const startApp = (
  name: string,
  url: Parameters<typeof migratedDbLive>[0],
  scope: Scope.Scope,
  extra: { passwordHasher?: ReturnType<typeof GatedHasher> } = {}
) => Layer.buildWithScope(TestApp({ ...appOptions(name), database: migratedDbLive(url), ...extra }), scope)

const on = <A, E>(context: Context.Context<any>, effect: Effect.Effect<A, E, any>) =>
  Effect.provide(effect, context) as Effect.Effect<A, E, never>

const propagations = Effect.map(Metric.value(revocationPropagation), (state) => state.count)

describe("two instances on one database", () => {
  it.live("a revoke or rotate on A: B stops accepting its cached answers, its verification in flight and a token it was minting", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* freshDatabase
      const scope = yield* Effect.scope
      const bGate = makeGate()
      const a = yield* startApp("a", url, scope)
      const b = yield* startApp("b", url, scope, { passwordHasher: GatedHasher(bGate) })
      const storeId = newStoreId()

      // Cached on B, revoked on A.
      const key = yield* on(a, issue(storeId))
      expect((yield* on(b, validate(presentHeaders(key)))).status).toBe(200)
      expect((yield* on(b, validate(presentHeaders(key)))).status).toBe(200)
      const before = yield* propagations
      expect((yield* on(a, revoke(key))).status).toBe(200)
      yield* eventually(propagations, (count) => count > before, "5 seconds")
      expect((yield* on(b, validate(presentHeaders(key)))).status).toBe(401)

      // In flight on B (bcrypt held) while A revokes: refused once B has heard of it.
      const other = yield* on(a, issue(storeId, { type: "OAUTH_CLIENT" }))
      bGate.hold()
      const inFlight = yield* Effect.fork(on(b, validate(presentHeaders(other))))
      yield* bGate.awaitArrivals(1)
      const heard = yield* propagations
      expect((yield* on(a, revoke(other))).status).toBe(200)
      yield* eventually(propagations, (count) => count > heard, "5 seconds")
      bGate.release()
      expect((yield* Fiber.join(inFlight)).status).toBe(401)
      expect((yield* on(b, validate(presentHeaders(other)))).status).toBe(401)

      // A token B was minting with the old secret while A rotated.
      const client = yield* on(a, issue(storeId, { type: "OAUTH_CLIENT" }))
      bGate.hold()
      const minting = yield* Effect.fork(on(b, clientToken(client)))
      yield* bGate.awaitArrivals(1)
      const rotated = yield* on(a, rotate(client))
      expect(rotated.status).toBe(200)
      bGate.release()
      const answer = yield* Fiber.join(minting)
      if (answer.status === 200) {
        // Minted before B heard of the rotation: the database check still refuses it, on both.
        expect((yield* on(b, validate({ authorization: `Bearer ${answer.body.access_token}` }))).status).toBe(401)
        expect((yield* on(a, validate({ authorization: `Bearer ${answer.body.access_token}` }))).status).toBe(401)
      } else {
        expect(answer.status).toBe(401)
      }
      const renewed = { ...client, secret: rotated.body.secret as string }
      expect((yield* on(b, validate(presentHeaders(renewed)))).status).toBe(200)
      expect((yield* on(b, validate(presentHeaders(client)))).status).toBe(401)

      // Measured on B: how long after A's change B stopped accepting.
      const state = yield* Metric.value(revocationPropagation)
      expect(state.count).toBeGreaterThanOrEqual(before + 3)
      expect(state.min).toBeGreaterThanOrEqual(0)
      console.log(`credential_revocation_propagation_seconds: count ${state.count}, min ${state.min}, max ${state.max}, ` +
        `mean ${(state.sum / state.count).toFixed(4)}`)
      // Scraped like every other metric.
      const scraped = yield* on(b, rawFetch("/metrics"))
      expect(scraped.status).toBe(200)
      expect(scraped.text).toMatch(/^credential_revocation_propagation_seconds_bucket\{le="1"\} \d+/m)
      expect(scraped.text).toMatch(/^credential_revocation_propagation_seconds_count \d+/m)
      expect(scraped.text).toMatch(/^credential_bcrypt_comparisons_total\{kind="real"\} \d+/m)
    })).pipe(Effect.provide(TestDbLive)), 120_000)
})

describe("propagation histogram", () => {
  it.effect("is an Effect metric named credential_revocation_propagation_seconds with buckets up to 60 s", () =>
    Effect.gen(function*() {
      const state = yield* Metric.value(revocationPropagation)
      expect(state.buckets.map(([boundary]) => boundary)).toContain(1)
      expect(revocationPropagation.keyType).toBeDefined()
    }))
})
