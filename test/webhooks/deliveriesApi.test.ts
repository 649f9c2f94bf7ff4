import { describe, expect, layer } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { randomUUID } from "node:crypto"
import { verify } from "../../src/domain/webhooks/signature.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"
import {
  attemptCount,
  createSubscription,
  deliveryRow,
  insertAttempt,
  insertDelivery,
  newStoreId
} from "./adminApiHelpers.ts"

const prefix = `deliveries-api-${randomUUID().slice(0, 8)}`

/** created_at values with ties and microsecond steps: the keyset must handle both. */
const timestamps = [
  "2024-05-01T10:00:00.000001Z",
  "2024-05-01T10:00:00.000001Z",
  "2024-05-01T10:00:00.000002Z",
  "2024-05-01T10:00:00.000002Z",
  "2024-05-01T10:00:00.000002Z",
  "2024-05-01T10:00:00.001000Z",
  "2024-05-01T10:00:01.000000Z"
]

/** Newest first; among equal times, the larger id first (the API's documented order). */
const newestFirst = (rows: ReadonlyArray<{ id: string; createdAt: string }>) =>
  [...rows].sort((a, b) =>
    a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1
  ).map((r) => r.id)

/** Follows nextCursor from the first page to the last, with the given filters. */
const allPages = (storeId: string, query: string, limit: number) =>
  Effect.gen(function*() {
    const pages: Array<Array<string>> = []
    let cursor: string | null = null
    do {
      const response: { status: number; body: any } = yield* adminFetch(
        `/stores/${storeId}/deliveries?${query}${query ? "&" : ""}limit=${limit}${
          cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`
        }`
      )
      expect(response.status, JSON.stringify(response.body)).toBe(200)
      expect(response.body.items.length).toBeLessThanOrEqual(limit)
      pages.push(response.body.items.map((d: any) => d.id))
      cursor = response.body.nextCursor
      expect(pages.length).toBeLessThan(50)
    } while (cursor !== null)
    return pages
  })

describe("deliveries admin API", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("list answers newest first and pages through everything with limit + nextCursor, without duplicates or gaps", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const sub = yield* createSubscription(storeId)
        const rows: Array<{ id: string; createdAt: string }> = []
        for (const createdAt of timestamps) {
          const { id } = yield* insertDelivery({ subscriptionId: sub.id, storeId, createdAt, status: "DELIVERED" })
          rows.push({ id, createdAt })
        }
        const expected = newestFirst(rows)

        const whole = yield* adminFetch(`/stores/${storeId}/deliveries`)
        expect(whole.status).toBe(200)
        expect(whole.body.items.map((d: any) => d.id)).toEqual(expected)
        expect(whole.body.nextCursor).toBeNull()
        expect(whole.body.items[0]).toMatchObject({
          id: expected[0],
          subscriptionId: sub.id,
          storeId,
          eventType: "order.placed",
          status: "DELIVERED",
          httpStatus: 200,
          createdAt: "2024-05-01T10:00:01.000Z"
        })

        for (const limit of [1, 2, 3, 6, 7, 8, 200]) {
          const pages = yield* allPages(storeId, "", limit)
          expect(pages.flat(), `limit ${limit}`).toEqual(expected)
          expect(new Set(pages.flat()).size).toBe(expected.length)
          expect(pages.length, `limit ${limit}`).toBe(Math.max(1, Math.ceil(expected.length / limit)))
          // Every page but the last is full.
          for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit)
        }
      }))

    it.effect("a page boundary stays put while newer deliveries arrive", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const sub = yield* createSubscription(storeId)
        const rows: Array<{ id: string; createdAt: string }> = []
        for (const createdAt of timestamps) {
          const { id } = yield* insertDelivery({ subscriptionId: sub.id, storeId, createdAt })
          rows.push({ id, createdAt })
        }
        const expected = newestFirst(rows)
        const first = yield* adminFetch(`/stores/${storeId}/deliveries?limit=3`)
        expect(first.body.items.map((d: any) => d.id)).toEqual(expected.slice(0, 3))

        // New deliveries (newer than everything) land meanwhile.
        yield* insertDelivery({ subscriptionId: sub.id, storeId })
        yield* insertDelivery({ subscriptionId: sub.id, storeId })

        const second = yield* adminFetch(`/stores/${storeId}/deliveries?limit=3&cursor=${first.body.nextCursor}`)
        expect(second.body.items.map((d: any) => d.id)).toEqual(expected.slice(3, 6))
        const third = yield* adminFetch(`/stores/${storeId}/deliveries?limit=3&cursor=${second.body.nextCursor}`)
        expect(third.body.items.map((d: any) => d.id)).toEqual(expected.slice(6))
        expect(third.body.nextCursor).toBeNull()
      }))

    it.effect("list filters by status, subscriptionId and eventType, alone, together and across pages", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const a = yield* createSubscription(storeId, { name: "a", events: ["*"] })
        const b = yield* createSubscription(storeId, { name: "b", events: ["*"] })
        const made: Array<{ id: string; sub: string; status: string; eventType: string; createdAt: string }> = []
        const plan: ReadonlyArray<readonly [string, "DELIVERED" | "FAILED" | "DEAD_LETTERED" | "PENDING", string]> = [
          [a.id, "DELIVERED", "order.placed"],
          [a.id, "DEAD_LETTERED", "order.placed"],
          [a.id, "DEAD_LETTERED", "inventory.updated"],
          [b.id, "FAILED", "order.placed"],
          [b.id, "DEAD_LETTERED", "order.placed"],
          [b.id, "DELIVERED", "inventory.updated"],
          [a.id, "PENDING", "product.updated"],
          [b.id, "DEAD_LETTERED", "order.placed"]
        ]
        for (const [i, [sub, status, eventType]] of plan.entries()) {
          const createdAt = `2024-06-01T12:00:${String(i).padStart(2, "0")}.000000Z`
          // FAILED/PENDING rows get a retry time far ahead, so no worker attempts them.
          const nextRetryAt = status === "FAILED" || status === "PENDING" ? "2099-01-01T00:00:00Z" : null
          const { id } = yield* insertDelivery({ subscriptionId: sub, storeId, status, eventType, createdAt, nextRetryAt })
          made.push({ id, sub, status, eventType, createdAt })
        }
        const expect_ = (pred: (d: (typeof made)[number]) => boolean) =>
          newestFirst(made.filter(pred))
        const ids = (query: string) =>
          adminFetch(`/stores/${storeId}/deliveries?${query}`).pipe(
            Effect.tap((r) => expect(r.status, JSON.stringify(r.body)).toBe(200)),
            Effect.map((r) => r.body.items.map((d: any) => d.id) as Array<string>)
          )

        for (const status of ["DELIVERED", "FAILED", "DEAD_LETTERED", "PENDING"]) {
          expect(yield* ids(`status=${status}`), status).toEqual(expect_((d) => d.status === status))
        }
        expect(yield* ids(`subscriptionId=${a.id}`)).toEqual(expect_((d) => d.sub === a.id))
        expect(yield* ids(`subscriptionId=${b.id}`)).toEqual(expect_((d) => d.sub === b.id))
        expect(yield* ids(`subscriptionId=${randomUUID()}`)).toEqual([])
        expect(yield* ids("eventType=order.placed")).toEqual(expect_((d) => d.eventType === "order.placed"))
        expect(yield* ids("eventType=inventory.updated")).toEqual(expect_((d) => d.eventType === "inventory.updated"))
        expect(yield* ids("eventType=nothing.here")).toEqual([])
        expect(yield* ids(`status=DEAD_LETTERED&subscriptionId=${b.id}&eventType=order.placed`)).toEqual(
          expect_((d) => d.status === "DEAD_LETTERED" && d.sub === b.id && d.eventType === "order.placed")
        )

        // A filter holds on every page.
        const dead = expect_((d) => d.status === "DEAD_LETTERED")
        expect(dead).toHaveLength(4)
        const pages = yield* allPages(storeId, "status=DEAD_LETTERED", 1)
        expect(pages.flat()).toEqual(dead)
        const aPages = yield* allPages(storeId, `subscriptionId=${a.id}`, 2)
        expect(aPages.flat()).toEqual(expect_((d) => d.sub === a.id))
      }))

    it.effect("an empty store lists nothing", () =>
      Effect.gen(function*() {
        const response = yield* adminFetch(`/stores/${newStoreId()}/deliveries`)
        expect(response.status).toBe(200)
        expect(response.body).toEqual({ items: [], nextCursor: null })
      }))

    it.effect("show answers the delivery with its payload and its attempts in order", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const sub = yield* createSubscription(storeId)
        const d = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "DEAD_LETTERED", attemptNumber: 3 })
        yield* insertAttempt(d.id, 2, "2024-06-01T12:01:00Z", null, "Timeout: no complete response within 2000 ms")
        yield* insertAttempt(d.id, 1, "2024-06-01T12:00:00Z", 503, null)
        yield* insertAttempt(d.id, 3, "2024-06-01T12:06:00Z", 500, null)

        const response = yield* adminFetch(`/stores/${storeId}/deliveries/${d.id}`)
        expect(response.status).toBe(200)
        expect(response.body).toMatchObject({
          id: d.id,
          subscriptionId: sub.id,
          storeId,
          eventType: "order.placed",
          eventId: d.eventId,
          status: "DEAD_LETTERED",
          attemptNumber: 3,
          payload: d.envelope
        })
        expect(response.body.attempts).toEqual([
          {
            attemptNumber: 1,
            startedAt: "2024-06-01T12:00:00.000Z",
            durationMs: 12,
            httpStatus: 503,
            responseBody: "upstream says no",
            error: null
          },
          {
            attemptNumber: 2,
            startedAt: "2024-06-01T12:01:00.000Z",
            durationMs: 12,
            httpStatus: null,
            responseBody: null,
            error: "Timeout: no complete response within 2000 ms"
          },
          expect.objectContaining({ attemptNumber: 3, httpStatus: 500 })
        ])

        const none = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "PENDING", nextRetryAt: "2099-01-01T00:00:00Z" })
        const fresh = yield* adminFetch(`/stores/${storeId}/deliveries/${none.id}`)
        expect(fresh.status).toBe(200)
        expect(fresh.body).toMatchObject({ status: "PENDING", attemptNumber: 0, attempts: [] })
      }))

    it.effect("show and retry answer 404 for a delivery that does not exist", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const shown = yield* adminFetch(`/stores/${storeId}/deliveries/${randomUUID()}`)
        expect(shown.status).toBe(404)
        expect(shown.body).toEqual({ error: "not_found", message: expect.any(String) })
        const retried = yield* adminFetch(`/stores/${storeId}/deliveries/${randomUUID()}/retry`, { method: "POST" })
        expect(retried.status).toBe(404)
        expect(retried.body).toEqual({ error: "not_found", message: expect.any(String) })
      }))

    it.effect("retry answers 409 for a delivered or still pending delivery, and changes nothing", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const sub = yield* createSubscription(storeId)
        const delivered = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "DELIVERED" })
        const pending = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "PENDING", nextRetryAt: "2099-01-01T00:00:00Z" })
        for (const [d, status] of [[delivered, "DELIVERED"], [pending, "PENDING"]] as const) {
          const before = yield* deliveryRow(d.id)
          const response = yield* adminFetch(`/stores/${storeId}/deliveries/${d.id}/retry`, { method: "POST" })
          expect(response.status, status).toBe(409)
          expect(response.body).toEqual({ error: "conflict", message: expect.stringContaining(status) })
          expect(yield* deliveryRow(d.id)).toEqual(before)
        }
      }))

    it.scoped("retry of a dead-lettered or failed delivery starts a fresh cycle: attempted now, history kept", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = newStoreId()
        const sub = yield* createSubscription(storeId, { targetUrl: `${receiver.url}/hook` })
        const dead = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "DEAD_LETTERED", attemptNumber: 5 })
        for (let n = 1; n <= 5; n++) yield* insertAttempt(dead.id, n, `2024-06-01T12:0${n}:00Z`, 500, null)
        const failed = yield* insertDelivery({
          subscriptionId: sub.id,
          storeId,
          status: "FAILED",
          attemptNumber: 2,
          nextRetryAt: "2099-01-01T00:00:00Z"
        })
        yield* insertAttempt(failed.id, 1, "2024-06-01T12:00:00Z", 500, null)
        yield* insertAttempt(failed.id, 2, "2024-06-01T12:01:00Z", 502, null)

        for (const [d, earlier] of [[dead, 5], [failed, 2]] as const) {
          const response = yield* adminFetch(`/stores/${storeId}/deliveries/${d.id}/retry`, { method: "POST" })
          expect(response.status).toBe(202)
          // The count runs on across cycles: the attempts so far.
          expect(response.body).toMatchObject({ id: d.id, status: "PENDING", attemptNumber: earlier })
          expect(Math.abs(Date.parse(response.body.nextRetryAt) - Date.now())).toBeLessThan(10_000)

          const request = yield* Queue.take(receiver.received).pipe(Effect.timeout("20 seconds"))
          expect(request.headers["x-ss3-delivery"]).toBe(d.id)
          expect(request.headers["x-ss3-replay"]).toBe("true")
          expect(JSON.parse(request.text)).toEqual(d.envelope)
          expect(yield* verify(sub.signingSecret, request.body, request.headers["x-ss3-signature"] as string)).toBe(true)

          const detail = yield* eventually(
            adminFetch(`/stores/${storeId}/deliveries/${d.id}`),
            (r) => r.body?.status === "DELIVERED"
          )
          expect(detail.body.attemptNumber).toBe(earlier + 1)
          expect(detail.body.attempts).toHaveLength(earlier + 1)
          expect(detail.body.attempts.at(-1)).toMatchObject({ attemptNumber: earlier + 1, httpStatus: 200, error: null })
          expect(yield* attemptCount(d.id)).toBe(earlier + 1)
        }
      }))

    it.effect("bulk retry re-triggers the store's matching deliveries only", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        // A target that refuses connections: what is re-triggered fails again, which is fine here.
        const a = yield* createSubscription(storeId, { name: "a", targetUrl: "http://127.0.0.1:9/nothing" })
        const b = yield* createSubscription(storeId, { name: "b", targetUrl: "http://127.0.0.1:9/nothing" })
        const later = "2099-01-01T00:00:00Z"
        const deadOldA = yield* insertDelivery({ subscriptionId: a.id, storeId, status: "DEAD_LETTERED", createdAt: "2024-01-01T00:00:00Z" })
        const deadNewA = yield* insertDelivery({ subscriptionId: a.id, storeId, status: "DEAD_LETTERED", createdAt: "2024-06-01T00:00:00Z" })
        const deadNewB = yield* insertDelivery({ subscriptionId: b.id, storeId, status: "DEAD_LETTERED", createdAt: "2024-06-02T00:00:00Z" })
        const failedA = yield* insertDelivery({ subscriptionId: a.id, storeId, status: "FAILED", nextRetryAt: later, createdAt: "2024-06-03T00:00:00Z" })
        const deliveredA = yield* insertDelivery({ subscriptionId: a.id, storeId, status: "DELIVERED", createdAt: "2024-06-04T00:00:00Z" })
        const statusOf = (id: string) => Effect.map(deliveryRow(id), (r) => r!.status)
        const retry = (body: unknown) => adminFetch(`/stores/${storeId}/deliveries/retry`, { method: "POST", body })

        // since + subscriptionId narrow it down.
        const narrow = yield* retry({ status: "DEAD_LETTERED", since: "2024-05-01T00:00:00Z", subscriptionId: a.id })
        expect(narrow.status).toBe(202)
        expect(narrow.body).toEqual({ retried: 1 })
        // A new cycle: its attempts so far (5) and at most the one it may have made since.
        expect((yield* deliveryRow(deadNewA.id))!.attempt_number).toBeGreaterThanOrEqual(5)
        expect((yield* deliveryRow(deadNewA.id))!.attempt_number).toBeLessThanOrEqual(6)
        expect((yield* deliveryRow(deadNewA.id))!.status).not.toBe("DEAD_LETTERED")
        expect(yield* statusOf(deadOldA.id)).toBe("DEAD_LETTERED")
        expect(yield* statusOf(deadNewB.id)).toBe("DEAD_LETTERED")

        // The default status is DEAD_LETTERED; FAILED and DELIVERED ones are not touched.
        const rest = yield* retry({})
        expect(rest.status).toBe(202)
        expect(rest.body.retried).toBeGreaterThanOrEqual(2) // deadOldA, deadNewB (+ deadNewA if it dead-lettered again)
        expect(yield* statusOf(deliveredA.id)).toBe("DELIVERED")
        expect(yield* statusOf(failedA.id)).toBe("FAILED")
        expect((yield* deliveryRow(failedA.id))!.next_retry_at?.toISOString()).toBe("2099-01-01T00:00:00.000Z")

        const failed = yield* retry({ status: "FAILED", subscriptionId: a.id })
        expect(failed.status).toBe(202)
        expect(failed.body.retried).toBeGreaterThanOrEqual(1)
        const row = yield* deliveryRow(failedA.id)
        expect(row!.next_retry_at!.getTime()).toBeLessThan(Date.now() + 120_000)
      }))
  })
})
