/**
 * One endpoint cannot crowd out the others: a subscription's attempts in
 * flight stay within its maxInFlight (default 10), so a receiver that sits on
 * every request holds that many workers and no more, and the other
 * subscriptions' deliveries go out meanwhile. (How their latency compares with
 * and without the slow one is measured by bench/slowEndpoint.ts, not here.)
 * Real PostgreSQL and Kafka.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"
import { envelope, publishEvents, storeDeliveries, subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `isolation-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

/** A receiver that holds every request open until `release`, counting how many it holds at once. */
const holdingReceiver = Effect.gen(function*() {
  const held: Array<ServerResponse> = []
  let maxOpen = 0
  const receiver = yield* startReceiver((_, res) => {
    held.push(res)
    maxOpen = Math.max(maxOpen, held.length)
  })
  const release = Effect.sync(() => {
    for (const res of held.splice(0)) res.end("ok")
  })
  yield* Effect.addFinalizer(() => release)
  return { ...receiver, release, open: () => held.length, maxOpen: () => maxOpen }
})

const leasesHeld = (subscriptionId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries
      WHERE subscription_id = ${subscriptionId}::uuid AND lease_expires_at IS NOT NULL`).pipe(
    Effect.orDie,
    Effect.map((rows) => rows[0]!.n)
  )

describe("per-subscription in-flight limit (real PostgreSQL and Kafka)", () => {
  // 16 workers; a receiver may sit on a request for the whole test (30 s timeout and lease).
  layer(TestApp({
    eventTopics: new RegExp(`^${prefix}\\.`),
    groupId: prefix,
    isolatedDatabase: true,
    webhookTimeoutMs: 30_000,
    workers: { webhookConcurrency: 16, webhookLeaseSeconds: 30 }
  }), { excludeTestServices: true, timeout: 90_000 })((it) => {
    it.scoped("a receiver that never answers holds at most 10 workers (the default); the fast subscriptions' deliveries all go out meanwhile", () =>
      Effect.gen(function*() {
        const slow = yield* holdingReceiver
        const fast = yield* startReceiver()
        const slowStore = uniqueStore("slow")
        const slowSub = yield* subscribe(slowStore, `${slow.url}/hook`)
        const shown = yield* adminFetch(`/stores/${slowStore}/webhooks/${slowSub.id}`)
        expect(shown.body.maxInFlight).toBe(10)

        // 40 events for the slow one first: without a limit they would take all 16 workers.
        yield* publishEvents(topic, Array.from({ length: 40 }, () => envelope(slowStore)))
        yield* eventually(Effect.sync(() => slow.open()), (n) => n === 10, "20 seconds")

        const fastStores = [uniqueStore("fast"), uniqueStore("fast"), uniqueStore("fast")]
        for (const store of fastStores) yield* subscribe(store, `${fast.url}/hook`)
        yield* publishEvents(topic, fastStores.flatMap((store) => Array.from({ length: 10 }, () => envelope(store))))
        for (const store of fastStores) {
          yield* eventually(storeDeliveries(store), (rows) => rows.length === 10 && rows.every((r) => r.status === "DELIVERED"), "20 seconds")
        }

        // The slow one never had more than 10 requests open nor more than 10 claims.
        expect(slow.maxOpen()).toBe(10)
        expect(yield* leasesHeld(slowSub.id)).toBeLessThanOrEqual(10)
        const slowRows = yield* storeDeliveries(slowStore)
        expect(slowRows).toHaveLength(40)
        expect(slowRows.filter((r) => r.status === "DELIVERED")).toHaveLength(0)

        // Let go of whatever it holds, again and again: the backlog drains, 10 at a time at most.
        yield* eventually(
          Effect.zipLeft(storeDeliveries(slowStore), slow.release),
          (rows) => rows.every((r) => r.status === "DELIVERED"),
          "30 seconds"
        )
        expect(slow.maxOpen()).toBe(10)
      }))

    it.scoped("maxInFlight is set on create and changed on update; bad values are a 400 naming it", () =>
      Effect.gen(function*() {
        const slow = yield* holdingReceiver
        const storeId = uniqueStore()
        const created = yield* adminFetch(`/stores/${storeId}/webhooks`, {
          method: "POST",
          body: { name: "two at a time", targetUrl: `${slow.url}/hook`, events: ["order.placed"], maxInFlight: 2 }
        })
        expect(created.status).toBe(201)
        expect(created.body.maxInFlight).toBe(2)
        yield* publishEvents(topic, Array.from({ length: 8 }, () => envelope(storeId)))
        yield* eventually(Effect.sync(() => slow.open()), (n) => n === 2, "20 seconds")
        yield* Effect.sleep("600 millis") // several polls: still two
        expect(slow.maxOpen()).toBe(2)

        const raised = yield* adminFetch(`/stores/${storeId}/webhooks/${created.body.id}`, { method: "PATCH", body: { maxInFlight: 5 } })
        expect(raised.body.maxInFlight).toBe(5)
        yield* eventually(Effect.sync(() => slow.open()), (n) => n === 5, "20 seconds")

        for (const maxInFlight of [0, -1, 1001, 2.5, "3", null]) {
          const r = yield* adminFetch(`/stores/${storeId}/webhooks/${created.body.id}`, { method: "PATCH", body: { maxInFlight } })
          expect(r.status, JSON.stringify(maxInFlight)).toBe(400)
          expect(JSON.stringify(r.body)).toContain("maxInFlight")
        }
        const bad = yield* adminFetch(`/stores/${storeId}/webhooks`, {
          method: "POST",
          body: { name: "x", targetUrl: `${slow.url}/hook`, events: ["order.placed"], maxInFlight: 1e9 }
        })
        expect(bad.status).toBe(400)
        expect(JSON.stringify(bad.body)).toContain("maxInFlight")
        yield* slow.release
      }))
  })
})
