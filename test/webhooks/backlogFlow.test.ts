/**
 * A subscription at its in-flight limit goes on as soon as its attempts are
 * recorded, not at the next poll: the poll interval here is a minute, so 200
 * deliveries to one subscription with maxInFlight 5 (40 rounds) all arrive
 * only if each recorded batch lets the lane claim again. Before, a claim that
 * came back short waited the whole interval: one subscription's backlog moved
 * at maxInFlight per interval. Real PostgreSQL and Kafka.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"
import { envelope, publishEvents, storeDeliveries, subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `backlog-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

describe("one subscription's backlog (real PostgreSQL and Kafka)", () => {
  layer(TestApp({
    eventTopics: new RegExp(`^${prefix}\\.`),
    groupId: prefix,
    isolatedDatabase: true,
    workers: { pollInterval: "60 seconds" }
  }), { excludeTestServices: true, timeout: 90_000 })((it) => {
    it.scoped("200 deliveries to one endpoint with maxInFlight 5 all go out, each round claimed when the last was recorded", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const limited = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`, {
          method: "PATCH",
          body: { maxInFlight: 5 }
        })
        expect(limited.body.maxInFlight).toBe(5)

        yield* publishEvents(topic, Array.from({ length: 200 }, () => envelope(storeId)))
        const rows = yield* eventually(
          storeDeliveries(storeId),
          (all) => all.length === 200 && all.every((r) => r.status === "DELIVERED"),
          "45 seconds"
        )
        expect(rows.every((r) => r.attempt_number === 1)).toBe(true)
      }))
  })
})
