/**
 * The store's floor, a child process of bench:peers (bench/peers/storeFloor.ts):
 * the delivery store's own statements — as the service's DeliveryStoreSql runs
 * them, on its migrated schema — for FLOOR_DELIVERIES events to one subscription,
 * with nothing else: no Kafka, no HTTP, no engine. FLOOR_WRITERS loops each take
 * FLOOR_BATCH events at a time: the fan-out inserts their deliveries claimed (an
 * intake claim), their results are recorded as 2xx answers with their
 * `webhook.delivered` announcements, and one relay loop takes the outbox as the
 * service's relay does (its messages are dropped instead of produced).
 *
 * Protocol (lines on stdout among its log's): `floor:ready` once migrated; it
 * starts on a line on stdin, then prints `floor:result ` and one JSON object:
 * { delivered, seconds, cpuSeconds, pending, outboxLeft }, and ends on another line
 * on stdin (its connections stay open until then: the bench tells its backends by them).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { defaultBreakerPolicy, tallyAttempts } from "../../src/domain/webhooks/breaker.ts"
import { deliveredTopic, encodeDelivered } from "../../src/domain/webhooks/events.ts"
import { makeDbLive } from "../../src/layers/DbLive.ts"
import { makeDeliveryStoreSql } from "../../src/layers/DeliveryStoreSql.ts"
import { runMigrations } from "../../src/programs/migrate.ts"
import { deliveredResult } from "./deliveredResult.ts"
import { intEnv } from "./run.ts"

const url = process.env["FLOOR_DATABASE_URL"] ?? ""
const deliveries = intEnv("FLOOR_DELIVERIES", 20_000)
const batch = intEnv("FLOOR_BATCH", 64)
const writers = intEnv("FLOOR_WRITERS", 3)
const padding = "x".repeat(intEnv("BENCH_PAYLOAD_BYTES", 256))
const storeId = "floor-store"

const program = Effect.gen(function*() {
  yield* runMigrations
  const sql = yield* SqlClient
  const store = yield* makeDeliveryStoreSql
  // 1000: the most a subscription may have open; the loops never hold more than writers × batch.
  yield* sql`INSERT INTO webhook_subscriptions (subscription_id, store_id, name, target_url, events, max_in_flight)
    VALUES (${randomUUID()}::uuid, ${storeId}, 'floor', 'http://127.0.0.1:9/floor', ARRAY['order.placed'], 1000)`
  process.stdout.write("floor:ready\n")
  const lines = process.stdin.iterator()
  yield* Effect.promise(() => lines.next())

  let taken = 0
  let recorded = 0
  const writer = Effect.gen(function*() {
    while (taken < deliveries) {
      const n = Math.min(batch, deliveries - taken)
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
        announce: (r) => [{
          topic: deliveredTopic,
          key: r.storeId,
          value: encodeDelivered({ deliveryId: r.deliveryId, subscriptionId: r.subscriptionId ?? "", storeId: r.storeId, eventType: r.eventType })
        }],
        tallies: tallyAttempts(results.map((r) => ({ subscriptionId: r.subscriptionId ?? "", ok: true, at: r.startedAt }))),
        gone: [],
        policy: defaultBreakerPolicy
      })
      recorded += written.recorded.length
    }
  })
  let writing = true
  const relayLimits = { maxMessages: 500, maxBatchBytes: 900_000, maxMessageBytes: 1024 * 1024 }
  const relayRound = store.relayOutbox(relayLimits, () => Effect.succeed({ setAside: [] }))
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
  yield* Effect.all(Array.from({ length: writers }, () => writer), { concurrency: "unbounded", discard: true })
  writing = false
  yield* relaying.await
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const [counts] = yield* sql<{ pending: number; outbox: number }>`
    SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE status <> 'DELIVERED') AS pending,
           (SELECT count(*)::int FROM kafka_outbox) AS outbox`
  process.stdout.write(`floor:result ${JSON.stringify({
    delivered: recorded,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    pending: counts?.pending ?? Number.NaN,
    outboxLeft: counts?.outbox ?? Number.NaN
  })}\n`)
  yield* Effect.promise(() => lines.next())
})

Effect.runPromise(program.pipe(Effect.provide(makeDbLive(Redacted.make(url), { maxConnections: writers + 2 })), Effect.scoped)).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`store floor failed: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  }
)
