/**
 * What an empty claim tells the engine's claimers (DeliveryStore.anyDue): the
 * poller goes quiet until its interval only when nothing is due, and the
 * dispatcher pauses for a backlog only when what its claim left behind is
 * still due. Real PostgreSQL, a database of this file's own, no engine running.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { TestApp } from "../support/app.ts"
import { deliveryStore, envelope, insertDeliveriesForEvent, subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `anydue-${randomUUID().slice(0, 8)}`

describe("whether deliveries are due after an empty claim (real PostgreSQL)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("due and unclaimed deliveries of claimable subscriptions count; claimed ones, paused endpoints' and connector runs' do not", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const store = yield* deliveryStore
        expect(yield* store.anyDue("webhook")).toBe(false)
        expect(yield* store.anyDue("connector")).toBe(false)

        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, "http://127.0.0.1:9/hook")
        const ids = (yield* Effect.forEach([1, 2, 3], () => insertDeliveriesForEvent(EventEnvelope.make(envelope(storeId))))).flat()
        expect(ids).toHaveLength(3)
        expect(yield* store.anyDue("webhook")).toBe(true)
        expect(yield* store.anyDue("webhook", ids)).toBe(true)
        // Odd ids are simply not due.
        expect(yield* store.anyDue("webhook", [randomUUID()])).toBe(false)

        // Claimed (by anyone): none is left due.
        const claimed = yield* store.claim({ lane: "webhook", limit: 2, leaseSeconds: 30, owner: "other" })
        expect(claimed).toHaveLength(2)
        expect(yield* store.anyDue("webhook", claimed.map((c) => c.delivery_id))).toBe(false)
        expect(yield* store.anyDue("webhook", ids)).toBe(true)
        yield* store.claim({ lane: "webhook", limit: 10, leaseSeconds: 30, owner: "other" })
        expect(yield* store.anyDue("webhook")).toBe(false)

        // Given back, but the endpoint's breaker is open (no probe yet): nothing claimable is due.
        yield* store.releaseLeases(ids, "other")
        yield* sql`UPDATE webhook_subscriptions SET paused_until = now() + interval '1 hour'
                   WHERE subscription_id = ${subscription.id}::uuid`
        expect(yield* store.anyDue("webhook")).toBe(false)
        // Its probe time come: due again.
        yield* sql`UPDATE webhook_subscriptions SET paused_until = now() - interval '1 second'
                   WHERE subscription_id = ${subscription.id}::uuid`
        expect(yield* store.anyDue("webhook")).toBe(true)
      }).pipe(Effect.orDie))
  })
})
