/**
 * The store's floor (bench:peers, ../peers/storeFloor.ts): the delivery store's own
 * statements — as the service's DeliveryStoreSql runs them, on its migrated schema —
 * for a burst of events to one subscription, with nothing else: no Kafka, no HTTP,
 * no engine. `writers` loops each take `batch` events at a time: the fan-out inserts
 * their deliveries claimed (an intake claim), their results are recorded as 2xx
 * answers with the lane's own announcements, and one relay loop takes the outbox as
 * the service's relay does (its messages are dropped instead of produced).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { defaultBreakerPolicy, tallyAttempts } from "../../src/domain/webhooks/breaker.ts"
import { makeDbLive } from "../../src/layers/DbLive.ts"
import { makeDeliveryStoreSql } from "../../src/layers/DeliveryStoreSql.ts"
import { runMigrations } from "../../src/programs/migrate.ts"
import { outcomeMessages } from "../../src/programs/webhooks/WebhookLane.ts"
import { deliveredResult } from "./deliveredResult.ts"
import type { StoreFloorResult, StoreFloorSettings } from "./storeFloorShape.ts"

const storeId = "floor-store"

const burst = (settings: StoreFloorSettings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const store = yield* makeDeliveryStoreSql
    const padding = "x".repeat(settings.payloadBytes)
    let taken = 0
    let recorded = 0
    const writer = Effect.gen(function*() {
      while (taken < settings.deliveries) {
        const n = Math.min(settings.batch, settings.deliveries - taken)
        taken += n
        const events = Array.from({ length: n }, () =>
          EventEnvelope.make({
            eventId: randomUUID(),
            eventType: "order.placed",
            storeId,
            occurredAt: new Date().toISOString(),
            data: { sentAt: Date.now(), pad: padding }
          }))
        const fanOut = yield* store.createForEvents(events, { limit: n, maxBytes: 64 * 1024 * 1024, leaseSeconds: 30, owner: "floor" })
        const at = new Date()
        const results = fanOut.claimed.map((d) => deliveredResult(d, at, 1))
        const written = yield* store.recordWebhookAttempts(results, {
          announce: outcomeMessages,
          tallies: tallyAttempts(results.map((r) => ({ subscriptionId: r.subscriptionId ?? "", ok: true, at: r.startedAt }))),
          gone: [],
          policy: defaultBreakerPolicy
        })
        recorded += written.recorded.length
      }
    })
    let writing = true
    const relayRound = store.relayOutbox(
      { maxMessages: 500, maxBatchBytes: 900_000, maxMessageBytes: 1024 * 1024 },
      () => Effect.succeed({ setAside: [] })
    )
    const relay = Effect.gen(function*() {
      while (writing) {
        const round = yield* relayRound
        if (!round.more) yield* Effect.sleep("20 millis")
      }
      // The writers' last batches may have committed after the round that saw the outbox last.
      while ((yield* relayRound).taken > 0) continue
    })

    const cpu = process.cpuUsage()
    const started = performance.now()
    const relaying = yield* Effect.fork(relay)
    yield* Effect.all(Array.from({ length: settings.writers }, () => writer), { concurrency: "unbounded", discard: true })
    writing = false
    yield* relaying.await
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    const [counts] = yield* sql<{ pending: number; outbox: number }>`
      SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE status <> 'DELIVERED') AS pending,
             (SELECT count(*)::int FROM kafka_outbox) AS outbox`
    return {
      delivered: recorded,
      seconds,
      cpuSeconds: (used.user + used.system) / 1e6,
      pending: counts?.pending ?? Number.NaN,
      outboxLeft: counts?.outbox ?? Number.NaN
    } satisfies StoreFloorResult
  })

/**
 * Migrates the database and makes the subscription; `run` then writes one burst.
 * Its connections stay open until `close` (the bench tells its backends by them).
 */
export const openStoreFloor = async (settings: StoreFloorSettings) => {
  const runtime = ManagedRuntime.make(makeDbLive(Redacted.make(settings.url), { maxConnections: settings.writers + 2 }))
  await runtime.runPromise(Effect.gen(function*() {
    yield* runMigrations
    const sql = yield* SqlClient
    // 1000: the most a subscription may have open; the loops never hold more than writers × batch.
    yield* sql`INSERT INTO webhook_subscriptions (subscription_id, store_id, name, target_url, events, max_in_flight)
      VALUES (${randomUUID()}::uuid, ${storeId}, 'floor', 'http://127.0.0.1:9/floor', ARRAY['order.placed'], 1000)`
  }))
  return {
    run: () => runtime.runPromise(burst(settings)),
    close: () => runtime.dispose()
  }
}
