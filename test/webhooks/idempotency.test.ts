/**
 * A re-consumed event (the same eventId on Kafka again) never makes a second
 * delivery for a subscription: against real PostgreSQL and the real Kafka broker.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { TestApp } from "../support/app.ts"
import { startReceiver } from "../support/receiver.ts"
import {
  attemptRecorded,
  envelope,
  expectNoMoreRequests,
  insertDeliveriesForEvent,
  nextRequest,
  publishEvents,
  storeDeliveries,
  subscribe,
  uniqueStore
} from "./deliveryHelpers.ts"

const prefix = `idem-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

describe("webhook fan-out idempotency (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("the same event consumed twice makes one delivery per subscription and one POST each", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const a = yield* subscribe(storeId, `${receiver.url}/a`)
        const b = yield* subscribe(storeId, `${receiver.url}/b`, ["*"])
        // Another store's subscription to the same event type gets nothing.
        yield* subscribe(uniqueStore("other"), `${receiver.url}/other`)

        const event = envelope(storeId)
        const marker = envelope(storeId, "order.placed", { marker: true })
        // Same key, so one partition, in this order: the marker's deliveries exist
        // only after both copies of the event were handled.
        yield* publishEvents(topic, [event])
        yield* publishEvents(topic, [event])
        yield* publishEvents(topic, [marker])

        const requests = yield* Effect.forEach(Array.from({ length: 4 }), () => nextRequest(receiver.received, "20 seconds"))
        yield* expectNoMoreRequests(receiver.received, 800)

        const forEvent = requests.filter((r) => JSON.parse(r.text).eventId === event.eventId)
        expect(forEvent.map((r) => r.path).sort()).toEqual(["/a", "/b"])
        expect(new Set(forEvent.map((r) => r.headers["x-ss3-delivery"])).size).toBe(2)
        expect(requests.filter((r) => JSON.parse(r.text).eventId === marker.eventId).map((r) => r.path).sort()).toEqual([
          "/a",
          "/b"
        ])

        const rows = yield* storeDeliveries(storeId)
        const eventRows = rows.filter((r) => r.event_id === event.eventId)
        expect(eventRows.map((r) => r.subscription_id).sort()).toEqual([a.id, b.id].sort())
        for (const row of eventRows) yield* attemptRecorded(row.delivery_id, 1)
        expect(rows).toHaveLength(4)

        // Consumed again much later (a replayed partition), after it was delivered: still nothing new.
        yield* publishEvents(topic, [event])
        const marker2 = envelope(storeId)
        yield* publishEvents(topic, [marker2])
        const late = yield* Effect.forEach(Array.from({ length: 2 }), () => nextRequest(receiver.received, "20 seconds"))
        expect(late.map((r) => JSON.parse(r.text).eventId)).toEqual([marker2.eventId, marker2.eventId])
        yield* expectNoMoreRequests(receiver.received, 500)
        expect((yield* storeDeliveries(storeId)).filter((r) => r.event_id === event.eventId)).toHaveLength(2)
      }))

    it.scoped("many fan-outs of one event at once still store one delivery per subscription", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/a`)
        yield* subscribe(storeId, `${receiver.url}/b`)
        const event = EventEnvelope.make(envelope(storeId))

        const created = yield* Effect.all(
          Array.from({ length: 12 }, () => sql.withTransaction(insertDeliveriesForEvent(event))),
          { concurrency: "unbounded" }
        )
        expect(created.flat()).toHaveLength(2)
        expect(yield* storeDeliveries(storeId)).toHaveLength(2)
        // The poller sends them (nothing signalled them): one POST each.
        const requests = yield* Effect.forEach([1, 2], () => nextRequest(receiver.received, "10 seconds"))
        expect(requests.map((r) => r.path).sort()).toEqual(["/a", "/b"])
        yield* expectNoMoreRequests(receiver.received, 500)
      }))
  })
})
