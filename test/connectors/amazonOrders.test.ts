/**
 * The Amazon connector against a fake SP-API (amazonSpApiFake.ts): shipment
 * confirmation (order.fulfilled) and the orders poll.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { failure, iso, setup } from "./amazonHarness.ts"
import { MARKETPLACE, type Order, queryKeys, spError } from "./amazonSpApiFake.ts"

describe("amazon connector: order.fulfilled", () => {
  const shipped = (overrides: Record<string, unknown> = {}) => ({
    orderId: "ss3-order-1",
    externalOrderId: "902-1106328-1059050",
    marketplace: "amazon",
    carrierCode: "UPS",
    trackingNumber: "1Z999AA10123456784",
    shipDate: "2024-05-02T10:00:00Z",
    items: [{ externalItemId: "79039765272157", quantity: 1 }],
    ...overrides
  })

  it.scopedLive("confirms the shipment with the items' Amazon ids (no lookup needed)", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()

      const outcome = yield* handle("order.fulfilled", shipped())

      expect(outcome).toEqual({ entityType: "shipment", recordCount: 1 })
      expect(fake.violations).toEqual([])
      expect(fake.sp("GET", "/orders/")).toEqual([])
      const posts = fake.sp("POST", "/orders/")
      expect(posts).toHaveLength(1)
      expect(posts[0]!.path).toBe("/orders/v0/orders/902-1106328-1059050/shipmentConfirmation")
      expect(posts[0]!.headers["x-amz-access-token"]).toBe("Atza|access-1")
      expect(posts[0]!.json).toEqual({
        marketplaceId: MARKETPLACE,
        packageDetail: {
          packageReferenceId: "1",
          carrierCode: "UPS",
          trackingNumber: "1Z999AA10123456784",
          shipDate: "2024-05-02T10:00:00.000Z",
          orderItems: [{ orderItemId: "79039765272157", quantity: 1 }]
        }
      })
    }))

  it.scopedLive("looks the order items up by SellerSKU (following NextToken) when the event lacks their ids", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.orderItems["902-1106328-1059050"] = [
        { items: [{ OrderItemId: "111", SellerSKU: "SKU-A", QuantityOrdered: 1 }], nextToken: "items-2" },
        { items: [{ OrderItemId: "222", SellerSKU: "SKU-B", QuantityOrdered: 3 }] }
      ]

      const outcome = yield* handle("order.fulfilled", shipped({
        items: [{ sku: "SKU-B", quantity: 2 }, { externalItemId: "999", sku: "SKU-X", quantity: 1 }]
      }))

      expect(outcome).toEqual({ entityType: "shipment", recordCount: 1 })
      expect(fake.violations).toEqual([])
      const lookups = fake.sp("GET", "/orders/v0/orders/902-1106328-1059050/orderItems")
      expect(lookups.map((r) => r.query.toString())).toEqual(["", "NextToken=items-2"])
      const body = fake.sp("POST", "/orders/")[0]!.json as { packageDetail: { orderItems: unknown } }
      expect(body.packageDetail.orderItems).toEqual([
        { orderItemId: "222", quantity: 2 },
        { orderItemId: "999", quantity: 1 }
      ])
    }))

  it.scopedLive("with no items listed, ships every item's unshipped quantity", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.orderItems["902-1106328-1059050"] = [{
        items: [
          { OrderItemId: "111", SellerSKU: "SKU-A", QuantityOrdered: 2, QuantityShipped: 1 },
          { OrderItemId: "222", SellerSKU: "SKU-B", QuantityOrdered: 1, QuantityShipped: 1 }
        ]
      }]
      yield* handle("order.fulfilled", shipped({ items: [] }))
      const body = fake.sp("POST", "/orders/")[0]!.json as { packageDetail: { orderItems: unknown } }
      expect(body.packageDetail.orderItems).toEqual([{ orderItemId: "111", quantity: 1 }])
    }))

  it.scopedLive("an SKU the Amazon order does not have is Invalid, and nothing is confirmed", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.orderItems["902-1106328-1059050"] = [{ items: [{ OrderItemId: "111", SellerSKU: "SKU-A", QuantityOrdered: 1 }] }]

      const error = yield* failure(handle("order.fulfilled", shipped({ items: [{ sku: "SKU-Z", quantity: 1 }] })))

      expect(error.kind).toBe("Invalid")
      expect(error.message).toContain("SKU-Z")
      expect(fake.sp("POST", "/orders/")).toEqual([])
    }))

  it.scopedLive("an order not sold on Amazon is nothing to do", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      const { externalOrderId: _, ...withoutExternal } = shipped()

      expect(yield* handle("order.fulfilled", withoutExternal)).toEqual({ entityType: "shipment", recordCount: 0 })
      expect(yield* handle("order.fulfilled", shipped({ marketplace: "ebay" }))).toEqual({ entityType: "shipment", recordCount: 0 })
      expect(fake.requests).toEqual([])
    }))

  it.scopedLive("a 400 from confirmShipment is a rejection with Amazon's message", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "POST" && r.path.endsWith("/shipmentConfirmation"),
        answer: spError(400, "InvalidInput", "Invalid Input", "carrierCode")
      })
      const error = yield* failure(handle("order.fulfilled", shipped()))
      expect(error.kind).toBe("Rejected")
      expect(error.message).toBe("confirmShipment: HTTP 400: InvalidInput: Invalid Input (carrierCode)")
    }))

  it.scopedLive("unsupported event types are nothing to do", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      expect((yield* handle("order.placed", { orderId: "1" })).recordCount).toBe(0)
      expect(fake.requests).toEqual([])
    }))
})

describe("amazon connector: poll", () => {
  const order = (id: string, updated: string, status = "Unshipped"): Order => ({
    AmazonOrderId: id,
    PurchaseDate: "2024-05-01T09:00:00Z",
    LastUpdateDate: updated,
    OrderStatus: status,
    MarketplaceId: MARKETPLACE,
    OrderTotal: { CurrencyCode: "USD", Amount: "10.00" }
  })

  it.scopedLive("follows NextToken over three pages and returns the LastUpdatedBefore bound as the cursor", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      fake.orderPages = [
        { items: [order("111-0000001-0000001", "2024-05-01T10:00:00Z"), order("111-0000001-0000002", "2024-05-01T10:05:00Z")], nextToken: "page-2" },
        { items: [order("111-0000001-0000003", "2024-05-01T10:07:00Z", "Shipped")], nextToken: "page-3" },
        { items: [order("111-0000001-0000004", "2024-05-01T10:09:00Z", "Canceled")] }
      ]
      const cursor = "2024-05-01T09:58:00Z"
      const startedAt = Date.now()

      const outcome = yield* poll(Option.some(cursor))

      expect(fake.violations).toEqual([])
      expect(outcome.entityType).toBe("order")
      expect(outcome.records.map((r) => [r.externalOrderId, r.updatedAt, r.status])).toEqual([
        ["111-0000001-0000001", "2024-05-01T10:00:00Z", "Unshipped"],
        ["111-0000001-0000002", "2024-05-01T10:05:00Z", "Unshipped"],
        ["111-0000001-0000003", "2024-05-01T10:07:00Z", "Shipped"],
        ["111-0000001-0000004", "2024-05-01T10:09:00Z", "Canceled"]
      ])
      expect(outcome.records[0]!.raw).toEqual(order("111-0000001-0000001", "2024-05-01T10:00:00Z"))

      const gets = fake.sp("GET", "/orders/v0/orders")
      expect(gets).toHaveLength(3)
      const first = gets[0]!.query
      expect(queryKeys(first)).toEqual(["LastUpdatedAfter", "LastUpdatedBefore", "MarketplaceIds", "MaxResultsPerPage"])
      expect(first.get("LastUpdatedAfter")).toBe(cursor)
      expect(first.get("MaxResultsPerPage")).toBe("100")
      expect(gets.slice(1).map((r) => Object.fromEntries(r.query))).toEqual([
        { MarketplaceIds: MARKETPLACE, NextToken: "page-2" },
        { MarketplaceIds: MARKETPLACE, NextToken: "page-3" }
      ])
      expect(gets.every((r) => r.headers["x-amz-access-token"] === "Atza|access-1")).toBe(true)

      // The cursor is the bound asked for: at least 2 minutes ago, to the second.
      const before = first.get("LastUpdatedBefore")!
      expect(outcome.cursor).toBe(before)
      expect(Date.parse(before)).toBeLessThanOrEqual(Date.now() - 120_000)
      expect(Date.parse(before)).toBeGreaterThan(startedAt - 120_000 - 2_000)

      // The next poll starts exactly there (Amazon's bounds are inclusive: a repeat, never a gap).
      fake.orderPages = [{ items: [] }]
      const next = yield* poll(Option.some(outcome.cursor))
      expect(fake.sp("GET", "/orders/v0/orders")[3]!.query.get("LastUpdatedAfter")).toBe(outcome.cursor)
      expect(next.records).toEqual([])
      expect(Date.parse(next.cursor)).toBeGreaterThanOrEqual(Date.parse(outcome.cursor))
    }))

  it.scopedLive("the first poll looks back a day", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      const outcome = yield* poll(Option.none())
      expect(fake.violations).toEqual([])
      const query = fake.sp("GET", "/orders/v0/orders")[0]!.query
      const after = Date.parse(query.get("LastUpdatedAfter")!)
      const before = Date.parse(query.get("LastUpdatedBefore")!)
      expect(before - after).toBe(24 * 60 * 60 * 1000)
      expect(outcome.cursor).toBe(iso(before))
      expect(outcome.records).toEqual([])
    }))

  it.scopedLive("a cursor less than 2 minutes old asks nothing and stays", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      const recent = iso(Date.now() - 30_000)
      const outcome = yield* poll(Option.some(recent))
      expect(outcome).toEqual({ entityType: "order", records: [], cursor: recent })
      expect(fake.requests).toEqual([])
    }))

  it.scopedLive("a throttled page (429, Retry-After: 0) is retried; the poll goes on", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      fake.orderPages = [
        { items: [order("111-0000001-0000001", "2024-05-01T10:00:00Z")], nextToken: "page-2" },
        { items: [order("111-0000001-0000002", "2024-05-01T10:01:00Z")] }
      ]
      fake.scripted.push({
        match: (r) => r.path === "/orders/v0/orders" && r.query.get("NextToken") === "page-2",
        answer: { ...spError(429, "QuotaExceeded", "You exceeded your quota for the requested resource."), headers: { "retry-after": "0" } }
      })

      const outcome = yield* poll(Option.some("2024-05-01T09:00:00Z"))

      expect(outcome.records.map((r) => r.externalOrderId)).toEqual(["111-0000001-0000001", "111-0000001-0000002"])
      expect(fake.sp("GET", "/orders/v0/orders").map((r) => r.query.get("NextToken"))).toEqual([null, "page-2", "page-2"])
    }))

  it.scopedLive("a failing first page fails the poll", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      fake.scripted.push({
        match: (r) => r.path === "/orders/v0/orders",
        answer: spError(400, "InvalidInput", "Invalid MarketplaceIds")
      })
      const error = yield* failure(poll(Option.some("2024-05-01T09:00:00Z")))
      expect(error.kind).toBe("Rejected")
      expect(error.message).toBe("getOrders: HTTP 400: InvalidInput: Invalid MarketplaceIds")
    }))

  // Changed by the page-checkpointed polling: a NextToken Amazon refuses (they expire) no
  // longer fails the poll for good; the window restarts from its start, its end halved.
  it.scopedLive("a NextToken Amazon no longer accepts restarts the window from its start, halved: nothing is skipped", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      const o1 = order("111-0000001-0000001", "2024-05-01T10:00:00Z")
      const o2 = order("111-0000001-0000002", "2024-05-01T10:30:00Z")
      fake.orderPages = [{ items: [o1], nextToken: "page-2" }, { items: [o2] }]
      fake.scripted.push({
        match: (r) => r.query.get("NextToken") === "page-2",
        answer: spError(400, "InvalidInput", "Invalid NextToken")
      })

      const outcome = yield* poll(Option.some("2024-05-01T09:00:00Z"))

      expect(fake.violations).toEqual([])
      expect(outcome.records.map((r) => r.externalOrderId)).toEqual([o1.AmazonOrderId, o2.AmazonOrderId])
      const gets = fake.sp("GET", "/orders/v0/orders").map((r) => Object.fromEntries(r.query))
      // The window, its refused token, the same start with half the window, its token, then the other half.
      expect(gets.map((q) => q.NextToken ?? q.LastUpdatedAfter)).toEqual([
        "2024-05-01T09:00:00Z",
        "page-2",
        "2024-05-01T09:00:00Z",
        "page-2",
        gets[2]!.LastUpdatedBefore,
        "page-2"
      ])
      const [whole, half, rest] = [gets[0]!, gets[2]!, gets[4]!]
      const start = Date.parse(whole.LastUpdatedAfter!)
      const end = Date.parse(whole.LastUpdatedBefore!)
      expect(Date.parse(half.LastUpdatedBefore!) - start).toBe(Math.floor((end - start) / 2000) * 1000)
      // No gap: the second half starts where the first ended, and runs to the (new) horizon.
      expect(rest.LastUpdatedAfter).toBe(half.LastUpdatedBefore)
      expect(Date.parse(rest.LastUpdatedBefore!)).toBeGreaterThanOrEqual(end)
      expect(outcome.cursor).toBe(rest.LastUpdatedBefore)
    }))
})
