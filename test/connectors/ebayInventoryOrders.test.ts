/**
 * The eBay connector against a fake eBay (ebayFake.ts): inventory.updated and
 * the orders poll.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { json } from "./fakeServer.ts"
import { BULK, failure, OFFER, ORDERS, ordersQuery, setup, TOKEN_PATH } from "./ebayFake.ts"

// --- inventory.updated -----------------------------------------------------------------------

describe("ebay inventory.updated", () => {
  it.scopedLive("the item quantity and every published offer, in one bulk call", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      state.offers.set("SKU-6", [
        { offerId: "O-6", sku: "SKU-6", marketplaceId: "EBAY_US", format: "FIXED_PRICE", status: "PUBLISHED" },
        { offerId: "O-7", sku: "SKU-6", marketplaceId: "EBAY_US", format: "FIXED_PRICE", status: "PUBLISHED" }
      ])
      const outcome = yield* handle("inventory.updated", { sku: "SKU-6", quantity: 3, price: { amount: 10, currency: "USD" } })
      expect(outcome).toEqual({ entityType: "inventory", recordCount: 1 })
      expect(calls()).toEqual([`POST ${TOKEN_PATH}`, `GET ${OFFER}`, `POST ${BULK}`])
      expect(server.requests[1]!.url).toBe(`${OFFER}?sku=SKU-6`)
      expect(server.requests[2]!.json).toEqual({
        requests: [{
          sku: "SKU-6",
          shipToLocationAvailability: { quantity: 3 },
          offers: [
            { offerId: "O-6", availableQuantity: 3, price: { value: "10.00", currency: "USD" } },
            { offerId: "O-7", availableQuantity: 3, price: { value: "10.00", currency: "USD" } }
          ]
        }]
      })

      // A SKU without offers: only its ship-to-home quantity.
      yield* handle("inventory.updated", { sku: "SKU-8", quantity: 9 })
      expect(server.requests[4]!.json).toEqual({ requests: [{ sku: "SKU-8", shipToLocationAvailability: { quantity: 9 } }] })
      expect(state.items.get("SKU-8")!.availability).toEqual({ shipToLocationAvailability: { quantity: 9 } })
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("a partial failure (207, one entry not 200) is Rejected with that entry's errors", () =>
    Effect.gen(function*() {
      const { state, server, handle } = yield* setup()
      state.offers.set("SKU-6", [
        { offerId: "O-6", sku: "SKU-6", marketplaceId: "EBAY_US", format: "FIXED_PRICE", status: "PUBLISHED" },
        { offerId: "O-7", sku: "SKU-6", marketplaceId: "EBAY_US", format: "FIXED_PRICE", status: "PUBLISHED" }
      ])
      state.failOffers.set("O-7", {
        statusCode: 400,
        errors: [{ errorId: 25004, domain: "API_INVENTORY", category: "REQUEST", message: "The quantity must be a valid number greater than or equal to 0." }]
      })
      const error = yield* failure(handle("inventory.updated", { sku: "SKU-6", quantity: 4 }))
      expect(error.kind).toBe("Rejected")
      expect(error.message).toBe(
        "bulkUpdatePriceQuantity: 1 of 3 updates failed: sku SKU-6 offer O-7: HTTP 400: 25004 The quantity must be a valid number greater than or equal to 0."
      )
      // What succeeded stays applied.
      expect(state.items.get("SKU-6")!.availability).toEqual({ shipToLocationAvailability: { quantity: 4 } })
      expect(state.offers.get("SKU-6")![0]!.availableQuantity).toBe(4)

      // A failed entry with a 5xx status is worth retrying.
      state.failOffers.set("O-7", { statusCode: 500, errors: [{ errorId: 25001, message: "A system error has occurred." }] })
      const retryable = yield* failure(handle("inventory.updated", { sku: "SKU-6", quantity: 4 }))
      expect(retryable.kind).toBe("Unavailable")
      expect(server.errors).toEqual([])
    }))
})

// --- poll -------------------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString()

const order = (orderId: string, modified: number, status = "NOT_STARTED", created = modified) => ({
  orderId,
  creationDate: iso(created),
  lastModifiedDate: iso(modified),
  orderFulfillmentStatus: status,
  orderPaymentStatus: "PAID",
  lineItems: [{ lineItemId: `${orderId}-1`, sku: "SKU-1", quantity: 1 }]
})

const decodeCursor = (cursor: string) => JSON.parse(cursor) as { since: string; seen: Array<string> }

describe("ebay poll", () => {
  it.scopedLive("pages through getOrders; the cursor is the newest change, ties at it neither skipped nor repeated", () =>
    Effect.gen(function*() {
      const { state, server, poll } = yield* setup()
      const base = Date.now() - 60 * 60_000
      for (let i = 0; i < 110; i++) state.orders.push(order(`o-${i}`, base + i * 1000, "NOT_STARTED", base - i))
      const newest = base + 200_000
      state.orders.push(order("tie-a", newest), order("tie-b", newest, "IN_PROGRESS"))

      const before = Date.now()
      const first = yield* poll()
      const after = Date.now()
      const orderCalls = server.requests.filter((r) => r.path === ORDERS)
      expect(orderCalls).toHaveLength(3)
      const sinces = new Set<string>()
      orderCalls.forEach((r, page) => {
        const m = ordersQuery.exec(r.url.split("?")[1]!)!
        sinces.add(m[1]!)
        expect([m[2], m[3]]).toEqual(["50", String(page * 50)])
        expect(r.headers.authorization).toBe("Bearer access-1")
      })
      // First poll: one day back.
      expect(sinces.size).toBe(1)
      const since = Date.parse([...sinces][0]!)
      expect(since).toBeGreaterThanOrEqual(before - 86_400_000)
      expect(since).toBeLessThanOrEqual(after - 86_400_000)

      expect(first.entityType).toBe("order")
      expect(first.records).toHaveLength(112)
      expect(first.records.map((r) => r.updatedAt)).toEqual([...first.records.map((r) => r.updatedAt)].sort())
      expect(first.records.find((r) => r.externalOrderId === "tie-b")).toEqual({
        externalOrderId: "tie-b",
        updatedAt: iso(newest),
        status: "IN_PROGRESS",
        raw: order("tie-b", newest, "IN_PROGRESS")
      })
      expect(decodeCursor(first.cursor)).toEqual({
        since: iso(newest),
        seen: [`tie-a@${iso(newest)}`, `tie-b@${iso(newest)}`]
      })

      // Meanwhile: an order with the very same timestamp shows up, and o-5 changes.
      state.orders.push(order("tie-c", newest))
      state.orders.find((o) => o.orderId === "o-5")!.lastModifiedDate = iso(newest + 5000)
      state.orders.find((o) => o.orderId === "o-5")!.orderFulfillmentStatus = "FULFILLED"
      const second = yield* poll(first.cursor)
      const secondCall = server.requests.filter((r) => r.path === ORDERS)[3]!
      expect(secondCall.url).toBe(`${ORDERS}?filter=lastmodifieddate:%5B${iso(newest)}..%5D&limit=50&offset=0`)
      expect(second.records.map((r) => [r.externalOrderId, r.updatedAt, r.status])).toEqual([
        ["tie-c", iso(newest), "NOT_STARTED"],
        ["o-5", iso(newest + 5000), "FULFILLED"]
      ])
      expect(decodeCursor(second.cursor)).toEqual({ since: iso(newest + 5000), seen: [`o-5@${iso(newest + 5000)}`] })

      // Nothing new: nothing published, the cursor stays.
      const third = yield* poll(second.cursor)
      expect(third.records).toEqual([])
      expect(decodeCursor(third.cursor)).toEqual(decodeCursor(second.cursor))
      expect(state.tokensIssued).toBe(1)
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("changes younger than the settle time stay in the next window, without being repeated", () =>
    Effect.gen(function*() {
      const { state, server, poll } = yield* setup()
      const now = Date.now()
      state.orders.push(order("recent-a", now - 30_000), order("recent-b", now - 10_000))
      const first = yield* poll(iso(now - 10 * 60_000)) // a bare ISO-8601 cursor is accepted
      expect(first.records.map((r) => r.externalOrderId)).toEqual(["recent-a", "recent-b"])
      const cursor = decodeCursor(first.cursor)
      // The window start stops at now − 2 min, short of the newest change.
      expect(Date.parse(cursor.since)).toBeLessThanOrEqual(now - 30_000)
      expect(Date.parse(cursor.since)).toBeGreaterThanOrEqual(now - 2 * 60_000 - 1000)
      expect(cursor.seen).toEqual([`recent-a@${iso(now - 30_000)}`, `recent-b@${iso(now - 10_000)}`])

      // eBay makes an older change visible late: it is picked up, the others are not repeated.
      state.orders.push(order("late", now - 60_000))
      const second = yield* poll(first.cursor)
      expect(second.records.map((r) => r.externalOrderId)).toEqual(["late"])
      expect(decodeCursor(second.cursor).seen).toContain(`late@${iso(now - 60_000)}`)
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("a cursor this connector did not write is Misconfigured; a page error fails the poll", () =>
    Effect.gen(function*() {
      const { state, server, poll } = yield* setup()
      const bad = yield* failure(poll("not a cursor"))
      expect(bad.kind).toBe("Misconfigured")
      state.script.push({
        match: (r) => r.path === ORDERS,
        response: json(400, { errors: [{ errorId: 30700, domain: "API_FULFILLMENT", category: "REQUEST", message: "Invalid filter." }] })
      })
      const rejected = yield* failure(poll())
      expect(rejected.kind).toBe("Rejected")
      expect(rejected.message).toBe("getOrders: HTTP 400: 30700 Invalid filter.")
      expect(server.errors).toEqual([])
    }))
})
