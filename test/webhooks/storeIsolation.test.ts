import { describe, expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, TestApp } from "../support/app.ts"
import {
  attemptCount,
  type CreatedSubscription,
  createSubscription,
  deliveryRow,
  insertAttempt,
  insertDelivery,
  newStoreId,
  subscriptionRow,
  vaultSecret
} from "./adminApiHelpers.ts"

const prefix = `store-isolation-${randomUUID().slice(0, 8)}`

/** Nowhere: connections are refused, so a re-triggered delivery just fails again. */
const deadEnd = "http://127.0.0.1:9/nothing"

/** Store A with a subscription and one delivery in each state; what B must not reach. */
const storeA = Effect.gen(function*() {
  const storeId = newStoreId("store-a")
  const sub = yield* createSubscription(storeId, { targetUrl: deadEnd, events: ["*"] })
  const dead = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "DEAD_LETTERED" })
  yield* insertAttempt(dead.id, 1, "2024-06-01T12:00:00Z", 500, null)
  const failed = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "FAILED", nextRetryAt: "2099-01-01T00:00:00Z" })
  const delivered = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "DELIVERED" })
  return { storeId, sub, deliveries: [dead, failed, delivered] }
})

/** Everything about A's subscription and deliveries that a request could change. */
const snapshot = (sub: CreatedSubscription, deliveryIds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    return {
      subscription: yield* subscriptionRow(sub.id),
      secret: yield* vaultSecret(sub.id),
      deliveries: yield* Effect.forEach(deliveryIds, deliveryRow),
      attempts: yield* Effect.forEach(deliveryIds, attemptCount)
    }
  })

describe("store isolation of the webhook admin API", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("every route naming store B for store A's subscription or delivery answers 404 and changes nothing", () =>
      Effect.gen(function*() {
        const a = yield* storeA
        const ids = a.deliveries.map((d) => d.id)
        const before = yield* snapshot(a.sub, ids)
        expect(Option.isSome(before.secret)).toBe(true)

        // B: an unrelated store, one that differs only in case, and one that shares a prefix.
        const others = [newStoreId("store-b"), a.storeId.toUpperCase(), `${a.storeId}x`, a.storeId.slice(0, -1)]
        for (const b of others) {
          // B has a subscription of its own, so "B exists" is not what makes the difference.
          yield* createSubscription(b, { targetUrl: deadEnd })
          const requests: ReadonlyArray<readonly [string, string, unknown?]> = [
            ["GET", `/stores/${b}/webhooks/${a.sub.id}`],
            ["PATCH", `/stores/${b}/webhooks/${a.sub.id}`, { name: "hijacked", targetUrl: "https://evil.example.com/", events: ["*"], isActive: false }],
            ["PATCH", `/stores/${b}/webhooks/${a.sub.id}`, { isActive: false }],
            ["DELETE", `/stores/${b}/webhooks/${a.sub.id}`],
            ["POST", `/stores/${b}/webhooks/${a.sub.id}/secret/rotate`],
            ...a.deliveries.flatMap((d) => [
              ["GET", `/stores/${b}/deliveries/${d.id}`] as const,
              // 404 even for A's delivered one: a 409 would tell B that the id exists.
              ["POST", `/stores/${b}/deliveries/${d.id}/retry`] as const
            ])
          ]
          for (const [method, path, body] of requests) {
            const response = yield* adminFetch(path, { method, ...(body === undefined ? {} : { body }) })
            expect(response.status, `${method} ${path}`).toBe(404)
            expect(response.body, `${method} ${path}`).toEqual({ error: "not_found", message: expect.any(String) })
            expect(JSON.stringify(response.body)).not.toContain(a.storeId)
          }
        }

        expect(yield* snapshot(a.sub, ids)).toEqual(before)
        // A still sees all of it, as it was.
        const shown = yield* adminFetch(`/stores/${a.storeId}/webhooks/${a.sub.id}`)
        expect(shown.status).toBe(200)
        expect(shown.body).toMatchObject({ name: a.sub.name, targetUrl: deadEnd, isActive: true, events: ["*"] })
      }))

    it.effect("store B's lists never include store A's subscriptions or deliveries, whatever the filter", () =>
      Effect.gen(function*() {
        const a = yield* storeA
        const b = newStoreId("store-b")
        const bSub = yield* createSubscription(b, { targetUrl: deadEnd })
        const bDelivery = yield* insertDelivery({ subscriptionId: bSub.id, storeId: b, status: "DEAD_LETTERED" })

        const subs = yield* adminFetch(`/stores/${b}/webhooks`)
        expect(subs.body.items.map((s: any) => s.id)).toEqual([bSub.id])

        const list = (query: string) =>
          adminFetch(`/stores/${b}/deliveries?${query}`).pipe(Effect.map((r) => r.body.items.map((d: any) => d.id)))
        expect(yield* list("")).toEqual([bDelivery.id])
        expect(yield* list(`subscriptionId=${a.sub.id}`)).toEqual([])
        expect(yield* list("status=DEAD_LETTERED")).toEqual([bDelivery.id])
        expect(yield* list("status=DELIVERED")).toEqual([])
        expect(yield* list("eventType=order.placed")).toEqual([bDelivery.id])

        // A cursor made from A's listing doesn't open A's rows to B either.
        const aPage = yield* adminFetch(`/stores/${a.storeId}/deliveries?limit=1`)
        expect(aPage.body.nextCursor).toEqual(expect.any(String))
        const viaCursor = yield* adminFetch(`/stores/${b}/deliveries?cursor=${aPage.body.nextCursor}`)
        expect(viaCursor.status).toBe(200)
        for (const d of a.deliveries) expect(JSON.stringify(viaCursor.body)).not.toContain(d.id)

        // And the other way round.
        const aList = yield* adminFetch(`/stores/${a.storeId}/deliveries`)
        expect(aList.body.items.map((d: any) => d.id).sort()).toEqual(a.deliveries.map((d) => d.id).sort())
        const aSubs = yield* adminFetch(`/stores/${a.storeId}/webhooks`)
        expect(aSubs.body.items.map((s: any) => s.id)).toEqual([a.sub.id])
      }))

    it.effect("bulk retry in store B re-triggers B's deliveries only", () =>
      Effect.gen(function*() {
        const a = yield* storeA
        const ids = a.deliveries.map((d) => d.id)
        const before = yield* snapshot(a.sub, ids)
        const b = newStoreId("store-b")
        const bSub = yield* createSubscription(b, { targetUrl: deadEnd })
        const bDead = yield* insertDelivery({ subscriptionId: bSub.id, storeId: b, status: "DEAD_LETTERED" })

        const retry = (body: unknown) => adminFetch(`/stores/${b}/deliveries/retry`, { method: "POST", body })
        const forA = yield* retry({ subscriptionId: a.sub.id })
        expect(forA.status).toBe(202)
        expect(forA.body).toEqual({ retried: 0 })
        expect(yield* retry({ status: "FAILED", subscriptionId: a.sub.id })).toMatchObject({ body: { retried: 0 } })
        expect(yield* retry({ status: "FAILED" })).toMatchObject({ body: { retried: 0 } })

        const all = yield* retry({ status: "DEAD_LETTERED", since: "2000-01-01T00:00:00Z" })
        expect(all.status).toBe(202)
        expect(all.body).toEqual({ retried: 1 })
        const bRow = yield* deliveryRow(bDead.id)
        expect(bRow!.status === "PENDING" || bRow!.attempt_number <= 1).toBe(true)

        expect(yield* snapshot(a.sub, ids)).toEqual(before)
      }))
  })
})
