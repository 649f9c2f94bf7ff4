/**
 * Our outages pause the work and spend nobody's retries: PostgreSQL cut off
 * (through a TCP proxy this test controls, never by stopping the shared
 * server) while results are being recorded, and Vault sealed while deliveries
 * are attempted. Real PostgreSQL, the real broker, node-vault against the KV
 * v2 double.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { makeDbLive } from "../../src/layers/DbLive.ts"
import { makeVaultLive } from "../../src/layers/VaultLive.ts"
import { Vault } from "../../src/services/Vault.ts"
import { TestApp } from "../support/app.ts"
import { freshDatabase, migratedDbLive, TestDbLive } from "../support/db.ts"
import { eventually } from "../support/eventually.ts"
import { scrapeMetrics } from "../support/metrics.ts"
import { startReceiver } from "../support/receiver.ts"
import { startTcpProxy, throughProxy } from "../support/tcpProxy.ts"
import { startVaultKvDouble } from "../support/vaultKvDouble.ts"
import {
  attemptRows,
  envelope,
  expectNoMoreRequests,
  nextRequest,
  publishEvents,
  readSecretFromVaultNext,
  storeDeliveries,
  subscribe,
  uniqueStore
} from "../webhooks/deliveryHelpers.ts"

const prefix = `outage-${randomUUID().slice(0, 8)}`

describe("outages on our side (real PostgreSQL and Kafka)", () => {
  it.scopedLive("PostgreSQL unreachable for 30 s while results are recorded: they wait in memory, are written when it is back, and nothing is attempted twice", () =>
    Effect.gen(function*() {
      const admin = yield* Layer.build(TestDbLive)
      const url = yield* freshDatabase.pipe(Effect.provide(admin))
      const direct = new URL(Redacted.value(url))
      const proxy = yield* startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) })
      // However the test ends, the app shuts down against a reachable database.
      yield* Effect.addFinalizer(() => proxy.restore)
      const app = yield* Layer.build(TestApp({
        eventTopics: new RegExp(`^${prefix}-db\\.`),
        groupId: `${prefix}-db`,
        database: migratedDbLive(Redacted.make(throughProxy(Redacted.value(url), proxy.port))),
        workers: { webhookConcurrency: 32 }
      }))
      // The test's own view of the database, not through the proxy.
      const db = yield* Layer.build(makeDbLive(url, { maxConnections: 2 }))
      const onDb = <A, E>(effect: Effect.Effect<A, E, SqlClient>) => Effect.provide(effect, db)

      const answer = yield* Deferred.make<void>()
      const receiver = yield* startReceiver((_, res) => {
        Effect.runPromise(Deferred.await(answer)).then(() => res.end("ok"))
      })
      const storeId = uniqueStore()
      const subscription = yield* subscribe(storeId, `${receiver.url}/hook`).pipe(Effect.provide(app))
      // All 20 in flight at once: more than the default in-flight limit of a subscription (10).
      yield* onDb(Effect.flatMap(SqlClient, (sql) =>
        sql`UPDATE webhook_subscriptions SET max_in_flight = 20 WHERE subscription_id = ${subscription.id}::uuid`))
      const events = Array.from({ length: 20 }, () => envelope(storeId))
      yield* publishEvents(`${prefix}-db.orders`, events).pipe(Effect.provide(app))
      // Every delivery's attempt is in flight at the receiver…
      const first = yield* Effect.forEach(events, () => nextRequest(receiver.received, "30 seconds"))
      // …when the database goes away; then the receiver answers.
      yield* proxy.cut
      yield* Deferred.succeed(answer, undefined)
      const waiting = yield* eventually(
        scrapeMetrics.pipe(Effect.provide(app)),
        (m) => m.value("delivery_results_waiting") === 20,
        "20 seconds"
      )
      expect(waiting.value("delivery_results_waiting")).toBe(20)
      yield* Effect.sleep("30 seconds")
      // Nothing was written meanwhile (the proxy refuses everything) and nothing attempted again.
      expect((yield* onDb(storeDeliveries(storeId))).every((r) => r.status === "PENDING")).toBe(true)
      yield* proxy.restore

      const rows = yield* eventually(
        onDb(storeDeliveries(storeId)),
        (rs) => rs.length === 20 && rs.every((r) => r.status === "DELIVERED"),
        "30 seconds"
      )
      for (const row of rows) {
        expect(row).toMatchObject({ attempt_number: 1, lease_expires_at: null })
        expect(yield* onDb(attemptRows(row.delivery_id))).toHaveLength(1)
      }
      expect(new Set(first.map((r) => r.headers["x-ss3-delivery"])).size).toBe(20)
      yield* expectNoMoreRequests(receiver.received, 3000)
      expect((yield* scrapeMetrics.pipe(Effect.provide(app))).value("delivery_results_waiting")).toBe(0)
    }), { timeout: 120_000 })

  it.scopedLive("Vault sealed while deliveries are attempted: they are postponed with their attempt count unchanged, then delivered once it is back", () =>
    Effect.gen(function*() {
      const double = yield* startVaultKvDouble()
      const vault = Layer.effect(Vault, makeVaultLive({ endpoint: double.address, token: Redacted.make(double.token), mount: double.mount }))
      const app = yield* Layer.build(TestApp({
        eventTopics: new RegExp(`^${prefix}-vault\\.`),
        groupId: `${prefix}-vault`,
        isolatedDatabase: true,
        vault
      }))
      const receiver = yield* startReceiver()
      const storeId = uniqueStore()
      const subscription = yield* subscribe(storeId, `${receiver.url}/hook`).pipe(Effect.provide(app))
      yield* readSecretFromVaultNext(subscription.id).pipe(Effect.provide(app))
      const before = yield* scrapeMetrics.pipe(Effect.provide(app))

      yield* double.setSealed(true)
      const events = Array.from({ length: 3 }, () => envelope(storeId))
      yield* publishEvents(`${prefix}-vault.orders`, events).pipe(Effect.provide(app))
      const postponed = yield* eventually(
        scrapeMetrics.pipe(Effect.provide(app)),
        (m) => m.value(`delivery_attempts_total{lane="webhook",outcome="postponed"}`) -
            before.value(`delivery_attempts_total{lane="webhook",outcome="postponed"}`) >= 6,
        "30 seconds"
      )
      expect(postponed.value(`delivery_attempts_total{lane="webhook",outcome="failed"}`)).toBe(before.value(`delivery_attempts_total{lane="webhook",outcome="failed"}`))
      const waiting = yield* storeDeliveries(storeId).pipe(Effect.provide(app))
      expect(waiting).toHaveLength(3)
      for (const row of waiting) {
        expect(row).toMatchObject({ status: "PENDING", attempt_number: 0 })
        expect(yield* attemptRows(row.delivery_id).pipe(Effect.provide(app))).toHaveLength(0)
      }
      yield* expectNoMoreRequests(receiver.received, 200)

      yield* double.setSealed(false)
      yield* Effect.forEach(events, () => nextRequest(receiver.received, "20 seconds"))
      const rows = yield* eventually(
        storeDeliveries(storeId).pipe(Effect.provide(app)),
        (rs) => rs.every((r) => r.status === "DELIVERED"),
        "20 seconds"
      )
      for (const row of rows) {
        expect(row.attempt_number).toBe(1)
        expect(yield* attemptRows(row.delivery_id).pipe(Effect.provide(app))).toHaveLength(1)
      }
    }), { timeout: 90_000 })
})
