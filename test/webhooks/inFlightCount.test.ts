/**
 * The leases a subscription holds, counted on its row by the database
 * (migration 0014's trigger) and read by every webhook claim: taken by claims,
 * given back by results, releases, the sweeper and deletes, whichever path it
 * is. A claim takes at most the room left, and the room of attempts this
 * instance finished but has not recorded yet. Also the table upkeep the
 * engine does when the server's autovacuum is off. Real PostgreSQL, a
 * database of this file's own, no engine running.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import type { AttemptResult } from "../../src/services/DeliveryStore.ts"
import { TestApp } from "../support/app.ts"
import { deliveryStore, envelope, insertDeliveriesForEvent, subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `inflight-${randomUUID().slice(0, 8)}`

const inFlight = (subscriptionId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ in_flight: number }>`SELECT in_flight FROM webhook_subscriptions WHERE subscription_id = ${subscriptionId}::uuid`
  ).pipe(Effect.orDie, Effect.map((rows) => rows[0]!.in_flight))

const setMaxInFlight = (subscriptionId: string, n: number) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql`UPDATE webhook_subscriptions SET max_in_flight = ${n} WHERE subscription_id = ${subscriptionId}::uuid`
  ).pipe(Effect.orDie)

/** `n` waiting deliveries for the store's subscriptions. */
const deliveriesFor = (storeId: string, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => insertDeliveriesForEvent(EventEnvelope.make(envelope(storeId)))).pipe(
    Effect.map((ids) => ids.flat())
  )

const delivered = (deliveryId: string, subscriptionId: string, storeId: string): AttemptResult => ({
  deliveryId,
  subscriptionId,
  connector: null,
  storeId,
  eventType: "order.placed",
  attemptNumber: 1,
  cycleAttempts: 1,
  startedAt: new Date(),
  durationMs: 3,
  httpStatus: 200,
  responseBody: "ok",
  error: null,
  status: "DELIVERED",
  retryInMs: null,
  reason: null
})

describe("a subscription's in-flight count and the room claims take (real PostgreSQL)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("claims take at most the room left; results, releases, the sweeper and deletes give it back", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const store = yield* deliveryStore
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, "http://127.0.0.1:9/hook")
        yield* setMaxInFlight(subscription.id, 5)
        yield* deliveriesFor(storeId, 12)

        const first = yield* store.claim({ lane: "webhook", limit: 100, leaseSeconds: 30, owner: "me" })
        expect(first).toHaveLength(5)
        expect(yield* inFlight(subscription.id)).toBe(5)
        // Full: nothing more, however large the batch asked for.
        expect(yield* store.claim({ lane: "webhook", limit: 100, leaseSeconds: 30, owner: "me" })).toHaveLength(0)

        // Two attempts finished, not yet recorded: their room is claimed again, the leases still count.
        const again = yield* store.claim({
          lane: "webhook",
          limit: 100,
          leaseSeconds: 30,
          owner: "me",
          finished: first.slice(0, 2).map((d) => d.delivery_id)
        })
        expect(again).toHaveLength(2)
        expect(yield* inFlight(subscription.id)).toBe(7)

        // Results give their leases back (a stale one, refused by the attempt-number guard, keeps its own).
        const recorded = yield* store.record(
          first.slice(0, 2).map((d) => ({ _tag: "Attempted" as const, result: delivered(d.delivery_id, subscription.id, storeId) })),
          () => Effect.void
        )
        expect(recorded).toBe(2)
        expect(yield* inFlight(subscription.id)).toBe(5)
        // Their room is back in the count now: named as finished still, they give none twice.
        expect(yield* store.claim({
          lane: "webhook",
          limit: 100,
          leaseSeconds: 30,
          owner: "me",
          finished: first.slice(0, 2).map((d) => d.delivery_id)
        })).toHaveLength(0)

        // A release at shutdown, and the sweeper after a lease ran out.
        expect(yield* store.releaseLeases([first[2]!.delivery_id], "me")).toBe(1)
        expect(yield* inFlight(subscription.id)).toBe(4)
        yield* sql`UPDATE webhook_deliveries SET lease_expires_at = now() - interval '1 second'
                   WHERE delivery_id = ${first[3]!.delivery_id}::uuid`
        expect(yield* store.releaseExpiredLeases).toBe(1)
        expect(yield* inFlight(subscription.id)).toBe(3)

        // A delivery deleted while leased (by hand, say) gives its lease back too.
        yield* sql`DELETE FROM webhook_deliveries WHERE delivery_id = ${first[4]!.delivery_id}::uuid`
        expect(yield* inFlight(subscription.id)).toBe(2)

        // The count is exactly the leases held, whatever path freed them.
        const [held] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries
          WHERE subscription_id = ${subscription.id}::uuid AND lease_expires_at IS NOT NULL`
        expect(held!.n).toBe(2)
        expect(yield* store.claim({ lane: "webhook", limit: 100, leaseSeconds: 30, owner: "me" })).toHaveLength(3)
      }))

    it.scoped("a subscription's full backlog costs other subscriptions nothing: each gets its own room, oldest first", () =>
      Effect.gen(function*() {
        const store = yield* deliveryStore
        const storeId = uniqueStore()
        const busy = yield* subscribe(storeId, "http://127.0.0.1:9/busy")
        yield* setMaxInFlight(busy.id, 3)
        const busyIds = yield* deliveriesFor(storeId, 50)
        const oldest = busyIds.slice(0, 3)
        const idle = yield* subscribe(storeId, "http://127.0.0.1:9/idle")
        // Each new event now makes one delivery for each subscription.
        const newer = yield* deliveriesFor(storeId, 2)

        const claimed = yield* store.claim({ lane: "webhook", limit: 100, leaseSeconds: 30, owner: "me" })
        const bySubscription = (id: string) => claimed.filter((d) => d.subscription_id === id).map((d) => d.delivery_id)
        expect(bySubscription(busy.id).sort()).toEqual([...oldest].sort())
        // The idle subscription's deliveries came after the busy one's 50, and still go out now.
        const idleClaimed = bySubscription(idle.id)
        expect(idleClaimed).toHaveLength(2)
        expect(idleClaimed.every((id) => newer.includes(id))).toBe(true)
      }))

    it.scoped("table upkeep: with the server's autovacuum off the engine vacuums and analyzes its tables, with it on it leaves them", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const store = yield* deliveryStore
        const [setting] = yield* sql<{ on: boolean }>`SELECT current_setting('autovacuum') = 'on' AS on`
        const storeId = uniqueStore()
        yield* subscribe(storeId, "http://127.0.0.1:9/hook")
        // Dead row versions: every delivery updated twice.
        yield* deliveriesFor(storeId, 200)
        // One connection, told to hand its activity counters over as soon as it is idle (they
        // otherwise reach the server's view within seconds, which the engine's rounds allow for).
        yield* sql.withTransaction(Effect.all([
          sql`UPDATE webhook_deliveries SET updated_at = now() WHERE store_id = ${storeId}`,
          sql`UPDATE webhook_deliveries SET updated_at = now() WHERE store_id = ${storeId}`,
          sql`SELECT pg_stat_force_next_flush()`
        ]))
        const upkept = yield* store.tableUpkeep
        expect(upkept.serverDoesIt).toBe(setting!.on)
        if (setting!.on) {
          expect(upkept.vacuumed).toEqual([])
        } else {
          expect(upkept.vacuumed).toContain("webhook_deliveries")
          const [after] = yield* sql<{ n: number }>`SELECT vacuum_count::int AS n FROM pg_stat_user_tables
            WHERE relname = 'webhook_deliveries' AND schemaname = current_schema()`
          expect(after!.n).toBeGreaterThan(0)
        }
      }))
  })
})
