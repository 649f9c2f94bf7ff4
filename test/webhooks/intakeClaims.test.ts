/**
 * New webhook deliveries claimed as the fan-out inserts them (an IntakeClaim),
 * after their subscriptions' older due ones:
 * no more than the lane's room and each subscription's in-flight room, counted
 * on the subscription (migration 0018's trigger), never for an open breaker,
 * never twice for a re-consumed event, and with the same bytes to sign as a
 * later claim of the same delivery reads. Real PostgreSQL, no engine running.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import type { IntakeClaim } from "../../src/services/DeliveryStore.ts"
import { TestApp } from "../support/app.ts"
import { deliveryStore, envelope, subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `intake-${randomUUID().slice(0, 8)}`

const room = (limit: number, maxBytes = 1024 * 1024): IntakeClaim => ({ limit, maxBytes, leaseSeconds: 30, owner: "me" })

const inFlight = (subscriptionId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ in_flight: number }>`SELECT in_flight FROM webhook_subscriptions WHERE subscription_id = ${subscriptionId}::uuid`
  ).pipe(Effect.orDie, Effect.map((rows) => rows[0]!.in_flight))

const setColumn = (
  subscriptionId: string,
  assignment: "max_in_flight = 3" | "max_in_flight = 10" | "paused_until = now() + interval '1 hour'"
) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql.unsafe(`UPDATE webhook_subscriptions SET ${assignment} WHERE subscription_id = $1::uuid`, [subscriptionId])
  ).pipe(Effect.orDie)

const leasedTo = (ids: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ id: string; owner: string | null }>`SELECT delivery_id::text AS id, lease_owner AS owner FROM webhook_deliveries
      WHERE delivery_id = ANY (${ids}::uuid[]) AND lease_expires_at IS NOT NULL`
  ).pipe(Effect.orDie)

const events = (storeId: string, n: number) =>
  Array.from({ length: n }, () => EventEnvelope.make(envelope(storeId)))

/** A subscription with room for 3, five events in: three claimed at intake, two left waiting (`older`). */
const twoLeftWaiting = Effect.gen(function*() {
  const store = yield* deliveryStore
  const storeId = uniqueStore()
  const busy = yield* subscribe(storeId, "http://127.0.0.1:9/busy")
  yield* setColumn(busy.id, "max_in_flight = 3")
  const first = yield* store.createForEvents(events(storeId, 5), room(100))
  expect(first.claimed).toHaveLength(3)
  const older = first.created.map((d) => d.deliveryId).filter((id) => !first.claimed.some((c) => c.delivery_id === id))
  expect(older).toHaveLength(2)
  return { busy, older, storeId }
})

describe("deliveries claimed as the fan-out inserts them (real PostgreSQL)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("at most the subscription's room and the lane's, oldest events first; a re-consumed event claims nothing", () =>
      Effect.gen(function*() {
        const store = yield* deliveryStore
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, "http://127.0.0.1:9/hook")
        yield* setColumn(subscription.id, "max_in_flight = 3")
        const batch = events(storeId, 5)

        const first = yield* store.createForEvents(batch, room(100))
        expect(first.created).toHaveLength(5)
        // Among the created (whose order the statement does not fix); which events they are is checked below.
        expect(first.claimed).toHaveLength(3)
        expect(first.created.map((d) => d.deliveryId)).toEqual(expect.arrayContaining(first.claimed.map((c) => c.delivery_id)))
        expect(yield* inFlight(subscription.id)).toBe(3)
        const leased = yield* leasedTo(first.created.map((d) => d.deliveryId))
        expect(leased.map((l) => l.owner)).toEqual(["me", "me", "me"])
        // The batch's first three events (the room goes in event order), each with its own envelope.
        const claimedEvents = first.claimed.map((c) => JSON.parse(c.body) as { eventId: string })
        expect(claimedEvents.map((e) => e.eventId).sort()).toEqual(batch.slice(0, 3).map((e) => e.eventId).sort())
        const claimed = first.claimed[0]!
        const event = batch.find((e) => e.eventId === claimedEvents[0]!.eventId)
        expect(JSON.parse(claimed.body)).toEqual(JSON.parse(JSON.stringify(event)))
        expect(claimed).toMatchObject({
          lane: "webhook",
          subscription_id: subscription.id,
          attempt_number: 0,
          cycle_attempts: 0,
          replay: false,
          probe: false,
          target_url: "http://127.0.0.1:9/hook"
        })

        // The same events again: nothing created, nothing claimed, the count unchanged.
        const again = yield* store.createForEvents(batch, room(100))
        expect(again.created).toHaveLength(0)
        expect(again.claimed).toHaveLength(0)
        expect(yield* inFlight(subscription.id)).toBe(3)

        // Full: new events are inserted waiting, not claimed.
        const more = yield* store.createForEvents(events(storeId, 2), room(100))
        expect(more.created).toHaveLength(2)
        expect(more.claimed).toHaveLength(0)
        expect(yield* inFlight(subscription.id)).toBe(3)
      }))

    it.scoped("the lane's limit and byte budget hold (the first always fits); an open breaker's deliveries wait", () =>
      Effect.gen(function*() {
        const store = yield* deliveryStore
        const storeId = uniqueStore()
        const open = yield* subscribe(storeId, "http://127.0.0.1:9/open")
        const other = yield* subscribe(storeId, "http://127.0.0.1:9/other")

        const limited = yield* store.createForEvents(events(storeId, 4), room(3))
        expect(limited.created).toHaveLength(8)
        expect(limited.claimed).toHaveLength(3)
        const budget = yield* store.createForEvents(events(storeId, 4), room(100, 1))
        expect(budget.claimed).toHaveLength(1)

        yield* setColumn(open.id, "paused_until = now() + interval '1 hour'")
        const openHeld = yield* inFlight(open.id)
        const paused = yield* store.createForEvents(events(storeId, 2), room(100))
        expect(paused.created).toHaveLength(4)
        // Only the closed breaker's: its deliveries left waiting above first, then the new ones, up to its room (10).
        expect(new Set(paused.claimed.map((c) => c.subscription_id))).toEqual(new Set([other.id]))
        const fresh = new Set(paused.created.map((d) => d.deliveryId))
        const isNew = paused.claimed.map((c) => fresh.has(c.delivery_id))
        expect(isNew).toEqual([...isNew].sort((a, b) => Number(a) - Number(b)))
        expect(isNew.filter((n) => n)).toHaveLength(2)
        expect(yield* inFlight(other.id)).toBe(10)
        expect(yield* inFlight(open.id)).toBe(openHeld)
      }))

    it.scoped("an intake claim takes its subscriptions' older due deliveries first, at their place in their cycle", () =>
      Effect.gen(function*() {
        const store = yield* deliveryStore
        const { busy, older, storeId } = yield* twoLeftWaiting
        // One of them failed an attempt before and is due again.
        yield* Effect.flatMap(SqlClient, (sql) =>
          sql`UPDATE webhook_deliveries SET status = 'FAILED', attempt_number = 2, cycle_attempts = 1,
                next_retry_at = now() - interval '1 second' WHERE delivery_id = ${older[0]!}::uuid`).pipe(Effect.orDie)
        yield* setColumn(busy.id, "max_in_flight = 10")

        // Room for three in the lane: the two that waited, then the first new one; the other new one waits.
        const newEvents = events(storeId, 2)
        const next = yield* store.createForEvents(newEvents, room(3))
        expect(next.created).toHaveLength(2)
        expect(next.claimed.slice(0, 2).map((c) => c.delivery_id).sort()).toEqual([...older].sort())
        expect(next.claimed).toHaveLength(3)
        // The third is the first new event's delivery (the room goes in event order).
        const firstNew = next.claimed[2]!
        expect((JSON.parse(firstNew.body) as { eventId: string }).eventId).toBe(newEvents[0]!.eventId)
        expect(next.created.map((d) => d.deliveryId)).toContain(firstNew.delivery_id)
        const retried = next.claimed.find((c) => c.delivery_id === older[0])!
        expect(retried).toMatchObject({ attempt_number: 2, cycle_attempts: 1, replay: false, target_url: "http://127.0.0.1:9/busy" })
        expect(JSON.parse(retried.body)).toHaveProperty("storeId", storeId)
        expect(yield* inFlight(busy.id)).toBe(3 + 3)
        expect((yield* leasedTo([...older, ...next.created.map((d) => d.deliveryId)])).map((l) => l.id).sort())
          .toEqual([...older, firstNew.delivery_id].sort())
      }))

    it.scoped("claiming ahead: twice the room while the leases are all ours and attempts are finishing, else the room", () =>
      Effect.gen(function*() {
        const store = yield* deliveryStore
        const storeId = uniqueStore()
        const busy = yield* subscribe(storeId, "http://127.0.0.1:9/busy")
        yield* setColumn(busy.id, "max_in_flight = 3")
        const held = (n: number) => ({ subscriptionIds: [busy.id], held: [n] })
        // Nothing finishing yet: the room (3) only.
        const first = yield* store.createForEvents(events(storeId, 12), { ...room(100), ahead: held(0) })
        expect(first.claimed).toHaveLength(3)
        // (Other tests' subscriptions in this database have due deliveries too: only this one's count.)
        const claim = (options: Partial<Parameters<typeof store.claim>[0]>) =>
          store.claim({ lane: "webhook", limit: 100, leaseSeconds: 30, owner: "me", ...options }).pipe(
            Effect.map((claimed) => claimed.filter((c) => c.subscription_id === busy.id))
          )
        // One of ours finished: its room, and three more ahead.
        const ahead = yield* claim({ finished: [first.claimed[0]!.delivery_id], ahead: held(3) })
        expect(ahead).toHaveLength(1 + 3)
        expect(ahead.every((c) => c.max_in_flight === 3)).toBe(true)
        expect(yield* inFlight(busy.id)).toBe(7)
        // Another instance (none of the leases its own) gets nothing: the room is maxInFlight as ever.
        expect(yield* claim({ owner: "other", finished: [], ahead: { subscriptionIds: [], held: [] } })).toHaveLength(0)
        // Without claiming ahead, a finished attempt frees its own room only, and 7 leases leave none.
        expect(yield* claim({ finished: [first.claimed[1]!.delivery_id] })).toHaveLength(0)
      }))

    it.scoped("a claim by id takes its subscription's older waiting deliveries first", () =>
      Effect.gen(function*() {
        const store = yield* deliveryStore
        const { busy, older, storeId } = yield* twoLeftWaiting
        // Newer ones, inserted unclaimed and signalled, once there is room again.
        const next = yield* store.createForEvents(events(storeId, 2))
        const newer = next.created.map((d) => d.deliveryId)
        yield* setColumn(busy.id, "max_in_flight = 10")

        // Signalled about the newer ones, a claim with room for two takes the two that waited longer.
        const claim = (limit: number) => store.claim({ lane: "webhook", ids: newer, limit, leaseSeconds: 30, owner: "me" })
        expect((yield* claim(2)).map((c) => c.delivery_id).sort()).toEqual([...older].sort())
        expect((yield* claim(10)).map((c) => c.delivery_id).sort()).toEqual([...newer].sort())
        expect(yield* inFlight(busy.id)).toBe(3 + 2 + 2)
      }))

    it.scoped("a delivery claimed at intake and one claimed later sign the same bytes", () =>
      Effect.gen(function*() {
        const store = yield* deliveryStore
        const storeId = uniqueStore()
        yield* subscribe(storeId, "http://127.0.0.1:9/hook")
        // Keys in an order jsonb does not keep, text jsonb normalizes, nesting and non-ASCII.
        const event = EventEnvelope.make(envelope(storeId, "order.placed", {
          zeta: 1,
          a: { "ü-key": "😀 \u2028 \\u0000", b: [1.5, 1e21, null, true], nested: { x: { y: { z: [] } } } }
        }))
        const intake = yield* store.createForEvents([event], room(10))
        const atIntake = intake.claimed[0]!
        expect(yield* store.releaseLeases([atIntake.delivery_id], "me")).toBe(1)
        const later = yield* store.claim({ lane: "webhook", ids: [atIntake.delivery_id], limit: 10, leaseSeconds: 30, owner: "me" })
        expect(later).toHaveLength(1)
        expect(later[0]!.body).toBe(atIntake.body)
        expect(later[0]!.payload_bytes).toBe(atIntake.payload_bytes)
        expect(later[0]!.occurred_at).toBe(atIntake.occurred_at)
      }))
  })
})
