/**
 * The validator's cache and its eviction (revoke, rotate; on this instance and,
 * through PostgreSQL LISTEN/NOTIFY, on another one), and the coalesced writes of
 * `last_used_at` on shutdown (its 5 s windows are tested on a TestClock in
 * clockTime.test.ts).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it, layer } from "@effect/vitest"
import { type Context, Effect, Exit, Layer, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { makeDbLive } from "../../src/layers/DbLive.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { freshDatabase, migratedDbLive, TestDbLive } from "../support/db.ts"
import { eventually } from "../support/eventually.ts"
import { installLastUsedLog, lastUsedLog } from "./lastUsedLog.ts"
import { basic, credentialRow, issue, newStoreId, presentHeaders, tokenRequest, validate } from "./helpers.ts"

const prefix = `cred-cache-${randomUUID().slice(0, 8)}`
const appOptions = (name: string) => ({
  eventTopics: new RegExp(`^${prefix}-${name}\\.`),
  groupId: `${prefix}-${name}`,
  withoutWorkers: true
})

describe("cache eviction on one instance", () => {
  layer(TestApp({ ...appOptions("one"), isolatedDatabase: true }), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("revoke: the cached credential is 401 right after", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const type of ["API_KEY", "OAUTH_CLIENT"] as const) {
          const credential = yield* issue(storeId, { type })
          for (let i = 0; i < 3; i++) expect((yield* validate(presentHeaders(credential))).status).toBe(200)
          expect((yield* adminFetch(`/stores/${storeId}/credentials/${credential.id}`, { method: "DELETE" })).status).toBe(200)
          expect((yield* validate(presentHeaders(credential))).status).toBe(401)
          // Revoked for good: it cannot be rotated back to life.
          const rotate = yield* adminFetch(`/stores/${storeId}/credentials/${credential.id}/rotate`, { method: "POST" })
          expect(rotate.status).toBe(409)
          expect((yield* validate(presentHeaders(credential))).status).toBe(401)
        }
      }))

    it.effect("rotate: the old secret is 401 right after, the new one 200, and the old access tokens stop validating", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const type of ["API_KEY", "OAUTH_CLIENT"] as const) {
          const credential = yield* issue(storeId, { type, scopes: ["orders:read", "catalog:read"] })
          const token = type === "OAUTH_CLIENT"
            ? (yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(credential.clientId, credential.secret) }))
              .body.access_token as string
            : undefined
          expect((yield* validate(presentHeaders(credential))).status).toBe(200)
          if (token) expect((yield* validate({ authorization: `Bearer ${token}` })).status).toBe(200)

          const rotated = yield* adminFetch(`/stores/${storeId}/credentials/${credential.id}/rotate`, { method: "POST" })
          expect(rotated.status).toBe(200)
          expect(rotated.body.clientId).toBe(credential.clientId)
          expect(rotated.body.secret).not.toBe(credential.secret)

          expect((yield* validate(presentHeaders(credential))).status).toBe(401)
          if (token) expect((yield* validate({ authorization: `Bearer ${token}` })).status).toBe(401)
          const renewed = { ...credential, secret: rotated.body.secret as string }
          const ok = yield* validate(presentHeaders(renewed))
          expect(ok.status).toBe(200)
          expect(ok.body).toMatchObject({ credentialId: credential.id, scopes: ["orders:read", "catalog:read"] })
          // And the old one stays refused once the new one is cached.
          expect((yield* validate(presentHeaders(credential))).status).toBe(401)
        }
      }))
  })
})

/** One instance of the service as a layer built in `scope` (so a test can stop it). */
const startApp = (name: string, url: Parameters<typeof migratedDbLive>[0], scope: Scope.Scope) =>
  Layer.buildWithScope(TestApp({ ...appOptions(name), database: migratedDbLive(url) }), scope)

const on = <A, E>(context: Context.Context<any>, effect: Effect.Effect<A, E, any>) =>
  Effect.provide(effect, context) as Effect.Effect<A, E, never>

describe("two instances on one database", () => {
  it.live("revoke and rotate on instance A evict instance B's cache within seconds (LISTEN/NOTIFY)", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* freshDatabase
      const scope = yield* Effect.scope
      const a = yield* startApp("a", url, scope)
      const b = yield* startApp("b", url, scope)
      const db = yield* Layer.build(makeDbLive(url, { maxConnections: 2 }))
      const storeId = newStoreId()

      // Revoke.
      const key = yield* on(a, issue(storeId))
      const client = yield* on(a, issue(storeId, { type: "OAUTH_CLIENT" }))
      for (const credential of [key, client]) {
        expect((yield* on(b, validate(presentHeaders(credential)))).status).toBe(200)
      }
      // B answers from its cache: a change made behind the service's back (no notification) goes unseen…
      yield* on(db, Effect.flatMap(SqlClient, (sql) => sql`UPDATE api_credentials SET is_active = FALSE WHERE credential_id = ${key.id}`))
      expect((yield* on(b, validate(presentHeaders(key)))).status).toBe(200)
      // …until instance A revokes it through the API.
      const started = Date.now()
      expect((yield* on(a, adminFetch(`/stores/${storeId}/credentials/${key.id}`, { method: "DELETE" }))).status).toBe(200)
      expect((yield* on(a, adminFetch(`/stores/${storeId}/credentials/${client.id}`, { method: "DELETE" }))).status).toBe(200)
      yield* on(b, eventually(validate(presentHeaders(key)), (r) => r.status === 401, "5 seconds"))
      yield* on(b, eventually(validate(presentHeaders(client)), (r) => r.status === 401, "5 seconds"))
      const evictedWithinMs = Date.now() - started
      expect(evictedWithinMs).toBeLessThan(5_000)

      // Rotate.
      const rotating = yield* on(a, issue(storeId, { type: "OAUTH_CLIENT" }))
      const token = (yield* on(b, tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(rotating.clientId, rotating.secret) })))
        .body.access_token as string
      expect((yield* on(b, validate(presentHeaders(rotating)))).status).toBe(200)
      expect((yield* on(b, validate({ authorization: `Bearer ${token}` }))).status).toBe(200)
      const rotated = yield* on(a, adminFetch(`/stores/${storeId}/credentials/${rotating.id}/rotate`, { method: "POST" }))
      expect(rotated.status).toBe(200)
      yield* on(b, eventually(validate(presentHeaders(rotating)), (r) => r.status === 401, "5 seconds"))
      yield* on(b, eventually(validate({ authorization: `Bearer ${token}` }), (r) => r.status === 401, "5 seconds"))
      expect((yield* on(b, validate(presentHeaders({ ...rotating, secret: rotated.body.secret })))).status).toBe(200)
      expect((yield* on(a, validate(presentHeaders({ ...rotating, secret: rotated.body.secret })))).status).toBe(200)
    })).pipe(Effect.provide(TestDbLive)), 120_000)

  it.live("last_used_at recorded since the last flush is written on shutdown", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* freshDatabase
      const db = yield* Layer.build(migratedDbLive(url))
      yield* on(db, installLastUsedLog)

      const appScope = yield* Scope.make()
      const app = yield* startApp("shutdown", url, appScope)
      const storeId = newStoreId()
      const key = yield* on(app, issue(storeId))
      // Right after a periodic flush, so the next one is ~5 s away.
      yield* on(app, validate(presentHeaders(key)))
      yield* on(db, eventually(lastUsedLog(key.id), (log) => log.length === 1, "10 seconds"))
      const usedAt = Date.now()
      for (let i = 0; i < 10; i++) expect((yield* on(app, validate(presentHeaders(key)))).status).toBe(200)
      const closing = Date.now()
      yield* Scope.close(appScope, Exit.void)

      const log = yield* on(db, lastUsedLog(key.id))
      expect(log).toHaveLength(2)
      expect(log[1]!.at.getTime()).toBeGreaterThanOrEqual(closing - 50)
      const row = yield* on(db, credentialRow(key.id))
      const lastUsed = (row!["last_used_at"] as Date).getTime()
      expect(lastUsed).toBeGreaterThanOrEqual(usedAt - 50)
      expect(lastUsed).toBeLessThanOrEqual(closing + 50)
    })).pipe(Effect.provide(TestDbLive)), 120_000)
})
