/**
 * Shared steps of the webhook delivery tests: subscriptions through the admin
 * API, events onto Kafka, the delivery rows as PostgreSQL has them, and a tap
 * on the topics the service publishes.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { expect } from "@effect/vitest"
import { Effect, Queue, Ref } from "effect"
import { randomUUID } from "node:crypto"
import type { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { makeDeliveryStoreSql } from "../../src/layers/DeliveryStoreSql.ts"
import type { AttemptResult } from "../../src/services/DeliveryStore.ts"
import { type IncomingMessage, Kafka } from "../../src/services/Kafka.ts"
import { adminFetch } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import type { ReceivedRequest } from "../support/receiver.ts"

export const uniqueStore = (label = "store") => `${label}-${randomUUID().slice(0, 8)}`

export interface Envelope {
  readonly eventId: string
  readonly eventType: string
  readonly storeId: string
  readonly occurredAt: string
  readonly data: Record<string, unknown>
}

export const envelope = (storeId: string, eventType = "order.placed", data: Record<string, unknown> = {}): Envelope => ({
  eventId: randomUUID(),
  eventType,
  storeId,
  occurredAt: new Date().toISOString(),
  data: { orderId: `o-${randomUUID().slice(0, 6)}`, ...data }
})

/** A subscription through the admin API: its id and signing secret. */
export const subscribe = (storeId: string, targetUrl: string, events: ReadonlyArray<string> = ["order.placed"]) =>
  Effect.gen(function*() {
    const created = yield* adminFetch(`/stores/${storeId}/webhooks`, {
      method: "POST",
      body: { name: `sub-${randomUUID().slice(0, 6)}`, targetUrl, events }
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    return { id: created.body.id as string, secret: created.body.signingSecret as string }
  })

/** Events onto a topic, keyed by their store (so one store's events keep their order). */
/**
 * The instance that creates a subscription keeps its signing secret in hand; to see
 * what an attempt does with the secret Vault holds now (changed, emptied, Vault
 * sealed), the subscription's secret version moves on, as after a rotation made
 * by another instance: the next attempt reads the secret from Vault.
 */
export const readSecretFromVaultNext = (subscriptionId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql`UPDATE webhook_subscriptions SET secret_version = secret_version + 1 WHERE subscription_id = ${subscriptionId}`)

export const publishEvents = (topic: string, events: ReadonlyArray<Envelope>) =>
  Effect.flatMap(Kafka, (kafka) =>
    kafka.publish(topic, events.map((e) => ({ key: e.storeId, value: JSON.stringify(e) }))))

/** The next request a receiver got, failing the test when none comes. */
export const nextRequest = (received: Queue.Queue<ReceivedRequest>, within: `${number} seconds` = "15 seconds") =>
  Queue.take(received).pipe(
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`the receiver got no request within ${within}`) })
  )

/** Asserts the receiver gets nothing more for a while (long enough for several polls). */
export const expectNoMoreRequests = (received: Queue.Queue<ReceivedRequest>, forMs = 800) =>
  Effect.gen(function*() {
    yield* Effect.sleep(forMs)
    const extra = yield* Queue.takeAll(received)
    expect([...extra].map((r) => `${r.method} ${r.path} ${r.headers["x-ss3-delivery"]}`)).toEqual([])
  })

export interface DeliveryRow {
  readonly delivery_id: string
  readonly subscription_id: string
  readonly store_id: string
  readonly event_id: string
  readonly status: "PENDING" | "FAILED" | "DELIVERED" | "DEAD_LETTERED"
  readonly attempt_number: number
  readonly http_status: number | null
  readonly response_body: string | null
  readonly next_retry_at: Date | null
  readonly delivered_at: Date | null
  readonly lease_expires_at: Date | null
}

const rowColumns = `delivery_id::text AS delivery_id, subscription_id::text AS subscription_id, store_id,
  event_id::text AS event_id, status::text AS status, attempt_number, http_status, response_body,
  next_retry_at, delivered_at, lease_expires_at`

export const deliveryRow = (deliveryId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<DeliveryRow>`SELECT ${sql.literal(rowColumns)} FROM webhook_deliveries WHERE delivery_id = ${deliveryId}::uuid`
  ).pipe(
    Effect.orDie,
    Effect.map((rows) => {
      expect(rows, `delivery ${deliveryId}`).toHaveLength(1)
      return rows[0]!
    })
  )

export const storeDeliveries = (storeId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<DeliveryRow>`SELECT ${sql.literal(rowColumns)} FROM webhook_deliveries WHERE store_id = ${storeId}
                     ORDER BY created_at, delivery_id`
  ).pipe(Effect.orDie)

export interface AttemptRow {
  readonly attempt_number: number
  readonly started_at: Date
  readonly duration_ms: number
  readonly http_status: number | null
  readonly response_body: string | null
  readonly error: string | null
}

export const attemptRows = (deliveryId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<AttemptRow>`
      SELECT attempt_number, started_at, duration_ms, http_status, response_body, error
      FROM webhook_delivery_attempts WHERE delivery_id = ${deliveryId}::uuid ORDER BY started_at, attempt_number`
  ).pipe(Effect.orDie)

/** Waits until the delivery's `attempts`-th attempt is recorded (its row moved past it). */
export const attemptRecorded = (deliveryId: string, attempts: number, within: `${number} seconds` = "15 seconds") =>
  eventually(
    Effect.zip(deliveryRow(deliveryId), attemptRows(deliveryId)),
    ([row, history]) => row.attempt_number >= attempts && row.status !== "PENDING" && history.length >= attempts,
    within
  )

/** "Moves time": the scheduled retry is due now (the poller picks it up within ~200 ms). */
export const makeDue = (deliveryId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql`UPDATE webhook_deliveries SET next_retry_at = now() WHERE delivery_id = ${deliveryId}::uuid
          AND status = 'FAILED'`
  ).pipe(Effect.orDie, Effect.asVoid)

/**
 * Drives a delivery whose receiver keeps failing through the whole retry table
 * (each scheduled retry made due at once) until it is dead-lettered.
 */
export const driveToDeadLetter = (deliveryId: string) =>
  Effect.gen(function*() {
    for (let n = 1; n <= 5; n++) {
      const [row] = yield* attemptRecorded(deliveryId, n)
      if (n < 5) {
        expect(row.status).toBe("FAILED")
        yield* makeDue(deliveryId)
      } else {
        expect(row.status).toBe("DEAD_LETTERED")
      }
    }
  })

export interface Published {
  readonly topic: string
  readonly key: string | null
  readonly value: Record<string, unknown>
}

/**
 * Collects every message of the topics matching `topics` (from the beginning,
 * under a group of its own) for the rest of the scope. Other test files publish
 * there too: look messages up by their content.
 */
export const tapTopics = (topics: RegExp) =>
  Effect.gen(function*() {
    const kafka = yield* Kafka
    const seen = yield* Ref.make<ReadonlyArray<Published>>([])
    const decoder = new TextDecoder()
    yield* kafka.consume(
      { groupId: `test-tap-${randomUUID()}`, topics, fromBeginning: true },
      (message: IncomingMessage) =>
        Ref.update(seen, (all) => {
          let value: Record<string, unknown>
          try {
            value = JSON.parse(message.value === null ? "null" : decoder.decode(message.value))
          } catch {
            return all
          }
          return [...all, { topic: message.topic, key: message.key, value }]
        })
    )
    /** The messages for which `where` holds, once there are at least `count` (and a moment later, all of them). */
    const waitFor = (where: (m: Published) => boolean, count = 1, within: `${number} seconds` = "20 seconds") =>
      eventually(Ref.get(seen), (all) => all.filter(where).length >= count, within).pipe(
        Effect.map((all) => all.filter(where))
      )
    const matching = (where: (m: Published) => boolean) => Effect.map(Ref.get(seen), (all) => all.filter(where))
    return { waitFor, matching }
  })

export const deliveredTopic = "webhook.delivered"
export const deadLetteredTopic = "webhook.dead_lettered"
export const webhookOutcomeTopics = /^webhook\.(delivered|dead_lettered)$/

export const secondsBetween = (later: Date, earlier: Date) => (later.getTime() - earlier.getTime()) / 1000

/** The delivery engine's store on the test app's database. */
export const deliveryStore = makeDeliveryStoreSql

/** A webhook claim as a worker makes it (without an owner: nobody renews it). */
export const claim = (options: { readonly ids?: ReadonlyArray<string>; readonly limit: number; readonly leaseSeconds: number }) =>
  Effect.flatMap(deliveryStore, (store) =>
    store.claim({
      lane: "webhook",
      ...(options.ids ? { ids: options.ids } : {}),
      limit: options.limit,
      leaseSeconds: options.leaseSeconds
    }))

/** One event's deliveries (and connector runs), as the fan-out creates them: their ids. */
export const insertDeliveriesForEvent = (event: EventEnvelope) =>
  Effect.flatMap(deliveryStore, (store) => store.createForEvents([event])).pipe(
    Effect.map((result) => result.created.map((d) => d.deliveryId))
  )

/** Records attempt results as the engine's writer does (nothing written alongside); how many were recorded. */
export const recordAttempts = (results: ReadonlyArray<AttemptResult>) =>
  Effect.flatMap(deliveryStore, (store) =>
    store.record(results.map((result) => ({ _tag: "Attempted" as const, result })), () => Effect.void))

export const releaseExpiredLeases = Effect.flatMap(deliveryStore, (store) => store.releaseExpiredLeases)
