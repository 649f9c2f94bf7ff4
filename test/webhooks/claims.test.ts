/**
 * Claims and leases: several workers (or instances) never attempt one delivery
 * at the same time, and a delivery whose worker died after claiming it is
 * handed out again once its lease expires. Real PostgreSQL (a database of this
 * file's own, so no other file's workers take part) and the real Kafka broker.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Deferred, Effect, Exit, Layer, Queue, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import type { DeliveryId } from "../../src/domain/webhooks/models.ts"
import { DeliverySignals, makeDeliverySignals } from "../../src/programs/delivery/DeliverySignals.ts"
import { DeliveryTimings, type DeliveryTimingsShape } from "../../src/programs/delivery/timings.ts"
import { ConnectorRegistryLive } from "../../src/programs/connectors/registry.ts"
import { DeliveryEngineWithLanes } from "../../src/programs/main.ts"
import { adminFetch, fastWorkers, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import {
  attemptRows,
  claim,
  deliveredTopic,
  deliveryRow,
  envelope,
  expectNoMoreRequests,
  insertDeliveriesForEvent,
  nextRequest,
  recordAttempts,
  releaseExpiredLeases,
  subscribe,
  tapTopics,
  uniqueStore,
  webhookOutcomeTopics
} from "./deliveryHelpers.ts"

const prefix = `claims-${randomUUID().slice(0, 8)}`

/**
 * One more instance's delivery engine on the same database (and the test app's
 * Kafka, HttpOut and Vault), with a signal queue of its own, for the rest of the scope.
 */
const startWorkerSet = (options: Partial<DeliveryTimingsShape> = {}, scope?: Scope.Scope) =>
  Effect.gen(function*() {
    const signals = yield* makeDeliverySignals
    const workers = DeliveryEngineWithLanes.pipe(
      Layer.provide(ConnectorRegistryLive),
      Layer.provide(Layer.succeed(DeliverySignals, signals)),
      Layer.provide(Layer.succeed(DeliveryTimings, { ...fastWorkers, ...options }))
    )
    yield* scope === undefined ? Layer.build(workers) : Layer.buildWithScope(workers, scope)
    const webhooks = signals.queue("webhook") as Queue.Queue<string>
    return { signals: webhooks }
  })

/** `n` new deliveries of one subscription, created in one transaction (so they become visible at once). */
const createDeliveries = (storeId: string, n: number) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql.withTransaction(
      Effect.forEach(Array.from({ length: n }), () => insertDeliveriesForEvent(EventEnvelope.make(envelope(storeId))))
    )
  ).pipe(Effect.map((ids) => ids.flat()))

const countBy = (requests: ReadonlyArray<ReceivedRequest>) => {
  const counts = new Map<string, number>()
  for (const r of requests) {
    const id = r.headers["x-ss3-delivery"] as string
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

describe("webhook delivery claims and leases (real PostgreSQL and Kafka)", () => {
  layer(
    // 40 failures in a row from one endpoint are part of these tests: the breaker (breaker.test.ts) stays out of it.
    TestApp({
      eventTopics: new RegExp(`^${prefix}\\.`),
      groupId: prefix,
      isolatedDatabase: true,
      withoutWorkers: true,
      webhookBreaker: { failureThreshold: 10_000 }
    }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.scoped("claimDeliveries from many fibers at once (separate connections) hands each due delivery out exactly once", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, "http://127.0.0.1:9/unused")
        // Room for all of them at once (the default in-flight limit, 10, is tested in endpointIsolation.test.ts).
        const sql = yield* SqlClient
        yield* sql`UPDATE webhook_subscriptions SET max_in_flight = 1000 WHERE subscription_id = ${subscription.id}::uuid`
        const ids = yield* createDeliveries(storeId, 150)
        expect(ids).toHaveLength(150)
        const mine = new Set<string>(ids)

        // Claims racing for one subscription pick the same oldest rows, and the one that finds them
        // locked takes nothing that round: like the engine's poller, a claimer goes on while some
        // are still waiting, and stops once none is.
        const waiting = sql<{ n: number }>`
          SELECT count(*)::int AS n FROM webhook_deliveries WHERE store_id = ${storeId} AND lease_expires_at IS NULL`
        const claimer = Effect.gen(function*() {
          const got: Array<string> = []
          while (true) {
            const claimed = yield* claim({ limit: 3, leaseSeconds: 60 })
            if (claimed.length === 0 && (yield* waiting)[0]!.n === 0) return got
            got.push(...claimed.map((c) => c.delivery_id))
          }
        })
        const perFiber = yield* Effect.all(Array.from({ length: 16 }, () => claimer), { concurrency: "unbounded" })
        const claimed = perFiber.flat().filter((id) => mine.has(id))
        // Every one claimed, none twice; and the work really was shared.
        expect(claimed).toHaveLength(150)
        expect(new Set(claimed).size).toBe(150)
        expect(perFiber.filter((got) => got.length > 0).length).toBeGreaterThan(1)

        const leases = yield* sql<{ n: number; min: number; max: number }>`
          SELECT count(*)::int AS n,
                 min(extract(epoch FROM lease_expires_at - now()))::float8 AS min,
                 max(extract(epoch FROM lease_expires_at - now()))::float8 AS max
          FROM webhook_deliveries WHERE store_id = ${storeId} AND lease_expires_at IS NOT NULL`
        expect(leases[0]!.n).toBe(150)
        expect(leases[0]!.min).toBeGreaterThan(50)
        expect(leases[0]!.max).toBeLessThanOrEqual(60)
        // Leased: nothing more to claim, even by id.
        expect(yield* claim({ ids: ids.slice(0, 10), limit: 10, leaseSeconds: 60 })).toEqual([])
      }))

    it.scoped("due deliveries of a deactivated subscription don't fill a claim batch and starve others' due retries", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const paused = yield* subscribe(storeId, "http://127.0.0.1:9/paused")
        yield* subscribe(storeId, "http://127.0.0.1:9/live", ["order.shipped"])
        const backlog = yield* createDeliveries(storeId, 5)
        const off = yield* adminFetch(`/stores/${storeId}/webhooks/${paused.id}`, { method: "PATCH", body: { isActive: false } })
        expect(off.status).toBe(200)
        yield* Effect.sleep("20 millis")
        const [live] = yield* Effect.flatMap(SqlClient, (sql) =>
          sql.withTransaction(insertDeliveriesForEvent(EventEnvelope.make(envelope(storeId, "order.shipped")))))

        // Room for 5, and the 5 oldest due deliveries belong to the paused subscription.
        const claimed = yield* claim({ limit: 5, leaseSeconds: 60 })
        expect(claimed.map((c) => c.delivery_id)).toEqual([live])
        // The paused backlog stays waiting, unclaimed.
        expect(yield* claim({ ids: backlog, limit: 5, leaseSeconds: 60 })).toEqual([])
        for (const id of backlog) expect(yield* deliveryRow(id)).toMatchObject({ status: "PENDING", lease_expires_at: null })
      }))

    it.scoped("two worker sets on one database: every delivery is attempted exactly once per due time", () =>
      Effect.gen(function*() {
        // Fails the first POST of each delivery, takes the second.
        const seen = new Set<string>()
        const receiver = yield* startReceiver((request, res) => {
          const id = request.headers["x-ss3-delivery"] as string
          res.statusCode = seen.has(id) ? 200 : 500
          seen.add(id)
          res.end()
        })
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)
        const racing = { pollInterval: "20 millis", webhookConcurrency: 8 } as const
        const a = yield* startWorkerSet(racing)
        const b = yield* startWorkerSet(racing)

        const ids = yield* createDeliveries(storeId, 40)
        // Both instances are told about them at once (and both pollers see them too).
        yield* Effect.all([a.signals.offerAll(ids), b.signals.offerAll(ids)], { concurrency: 2 })

        const firsts = yield* Effect.forEach(ids, () => nextRequest(receiver.received))
        yield* Effect.forEach(ids, (id) =>
          eventually(deliveryRow(id), (row) => row.status === "FAILED"))
        yield* expectNoMoreRequests(receiver.received, 300)
        expect([...countBy(firsts).values()]).toEqual(ids.map(() => 1))

        // Every retry due at the same moment: both pollers race for them.
        const sql = yield* SqlClient
        yield* sql`UPDATE webhook_deliveries SET next_retry_at = now() WHERE store_id = ${storeId}`
        const seconds = yield* Effect.forEach(ids, () => nextRequest(receiver.received))
        yield* expectNoMoreRequests(receiver.received, 800)
        const counts = countBy(seconds)
        expect([...counts.keys()].sort()).toEqual([...ids].sort())
        expect([...counts.values()]).toEqual(ids.map(() => 1))

        for (const id of ids) {
          const row = yield* eventually(deliveryRow(id), (r) => r.status === "DELIVERED")
          expect(row).toMatchObject({ attempt_number: 2, lease_expires_at: null })
          expect((yield* attemptRows(id)).map((x) => [x.attempt_number, x.http_status])).toEqual([[1, 500], [2, 200]])
        }
      }))

    it.scoped("releaseExpiredLeases frees only expired claims of waiting deliveries", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const storeId = uniqueStore()
        yield* subscribe(storeId, "http://127.0.0.1:9/unused")
        const [short, long] = yield* createDeliveries(storeId, 2)
        expect(yield* claim({ ids: [short!], limit: 1, leaseSeconds: 1 })).toHaveLength(1)
        expect(yield* claim({ ids: [long!], limit: 1, leaseSeconds: 60 })).toHaveLength(1)

        // Before it expires, nothing is released and nobody can claim it.
        yield* releaseExpiredLeases
        expect((yield* deliveryRow(short!)).lease_expires_at).not.toBeNull()
        expect(yield* claim({ ids: [short!, long!], limit: 2, leaseSeconds: 60 })).toEqual([])

        yield* Effect.sleep("1200 millis")
        expect(yield* releaseExpiredLeases).toBeGreaterThanOrEqual(1)
        expect((yield* deliveryRow(short!)).lease_expires_at).toBeNull()
        expect((yield* deliveryRow(long!)).lease_expires_at).not.toBeNull()
        const again = yield* claim({ ids: [short!, long!], limit: 2, leaseSeconds: 60 })
        expect(again.map((c) => [c.delivery_id, c.attempt_number])).toEqual([[short!, 0]])

        // A delivered delivery's (stale) lease is no business of the sweeper's.
        yield* sql`UPDATE webhook_deliveries SET status = 'DELIVERED', lease_expires_at = now() - interval '1 minute'
                   WHERE delivery_id = ${short!}::uuid`
        yield* releaseExpiredLeases
        expect((yield* deliveryRow(short!)).status).toBe("DELIVERED")
      }))

    it.scoped("a worker that dies between claim and attempt: after its lease expires the sweeper frees the delivery and it goes out once", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const arrivals: Array<number> = []
        const receiver = yield* startReceiver((_, res) => {
          arrivals.push(Date.now())
          res.end("ok")
        })
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)

        // The "dead" worker: claims the new delivery (1 s lease) in the transaction that creates it, then never attempts it.
        const [claimed] = yield* sql.withTransaction(Effect.gen(function*() {
          const ids = yield* insertDeliveriesForEvent(EventEnvelope.make(envelope(storeId)))
          return yield* claim({ ids, limit: 10, leaseSeconds: 1 })
        }))
        expect(claimed).toBeDefined()
        const deliveryId = claimed!.delivery_id
        const leased = yield* deliveryRow(deliveryId)
        expect(leased).toMatchObject({ status: "PENDING", attempt_number: 0 })
        const [lease] = yield* sql<{ expires: number }>`
          SELECT (extract(epoch FROM lease_expires_at) * 1000)::float8 AS expires
          FROM webhook_deliveries WHERE delivery_id = ${deliveryId}::uuid`

        // A live instance, signalled about it at once: it can't have it while the lease holds.
        const live = yield* startWorkerSet({ pollInterval: "100 millis", sweepInterval: "200 millis" })
        yield* live.signals.offer(deliveryId as DeliveryId)

        const request = yield* nextRequest(receiver.received, "10 seconds")
        expect(request.headers["x-ss3-delivery"]).toBe(deliveryId)
        // Not before the lease ran out (the database and this process share the host's clock).
        expect(arrivals[0]!).toBeGreaterThanOrEqual(lease!.expires - 50)
        const row = yield* eventually(deliveryRow(deliveryId), (r) => r.status === "DELIVERED")
        expect(row).toMatchObject({ attempt_number: 1, lease_expires_at: null })
        expect(yield* attemptRows(deliveryId)).toHaveLength(1)
        yield* expectNoMoreRequests(receiver.received, 500)

        // The dead worker comes back and records its attempt after all: it is dropped.
        const stale = yield* recordAttempts([{
          deliveryId,
          subscriptionId: claimed!.subscription_id,
          connector: null,
          storeId,
          eventType: claimed!.event_type,
          attemptNumber: 1,
          cycleAttempts: 1,
          startedAt: new Date(),
          durationMs: 5,
          httpStatus: 500,
          responseBody: "late",
          error: null,
          status: "FAILED",
          retryInMs: 60_000,
          reason: null
        }])
        expect(stale).toBe(0)
        expect(yield* deliveryRow(deliveryId)).toMatchObject({ status: "DELIVERED", attempt_number: 1, http_status: 200 })
        expect(yield* attemptRows(deliveryId)).toHaveLength(1)
      }))

    it.scoped("shutting a worker set down while it records an attempt still records it and publishes its message", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const tap = yield* tapTopics(webhookOutcomeTopics)
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)

        // Attempts can't be inserted while this lock is held: the writer's transaction waits in the middle.
        const locked = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(sql.withTransaction(
          sql`LOCK TABLE webhook_delivery_attempts IN EXCLUSIVE MODE`.pipe(
            Effect.zipRight(Deferred.succeed(locked, undefined)),
            Effect.zipRight(Deferred.await(release))
          )
        ))
        yield* Deferred.await(locked)

        const scope = yield* Scope.make()
        const set = yield* startWorkerSet({}, scope)
        const ids = yield* createDeliveries(storeId, 1)
        yield* set.signals.offerAll(ids)
        const request = yield* nextRequest(receiver.received)
        const deliveryId = request.headers["x-ss3-delivery"] as string
        yield* Effect.sleep("300 millis")

        // Shutdown begins while the result is being written; the lock goes a moment later.
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        yield* Effect.sleep("300 millis")
        yield* Deferred.succeed(release, undefined)
        yield* holder.await
        yield* closing.await.pipe(Effect.timeout("20 seconds"))

        // Shut down: the attempt is on record, the claim released, the message out of the outbox.
        expect(yield* deliveryRow(deliveryId)).toMatchObject({ status: "DELIVERED", attempt_number: 1, lease_expires_at: null })
        expect(yield* attemptRows(deliveryId)).toHaveLength(1)
        const outbox = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM kafka_outbox WHERE value LIKE ${`%${deliveryId}%`}`
        expect(outbox[0]!.n).toBe(0)
        yield* tap.waitFor((m) => m.topic === deliveredTopic && m.value["deliveryId"] === deliveryId)
      }))
  })
})
