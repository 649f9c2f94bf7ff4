/**
 * eBay and Google Shopping polls resumed between pages, as the poller does when
 * a poll reaches its page budget (or stops): the cursor after a page holds the
 * scan in progress, and what follows from it is what one uninterrupted poll
 * would have given — nothing skipped, also when the marketplace's listing
 * shifts in between.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { googleShoppingAdapter } from "../../src/programs/connectors/adapters/google-shopping/index.ts"
import { setup } from "./ebayFake.ts"
import { account, contextFor, fakeGoogle, listedProduct, run } from "./googleFake.ts"

const iso = (ms: number) => new Date(ms).toISOString()
const ebayOrder = (orderId: string, modified: number, created = modified) => ({
  orderId,
  creationDate: iso(created),
  lastModifiedDate: iso(modified),
  orderFulfillmentStatus: "NOT_STARTED",
  orderPaymentStatus: "PAID",
  lineItems: [{ lineItemId: `${orderId}-1`, sku: "SKU-1", quantity: 1 }]
})

describe("polls resumed between pages", () => {
  it.scopedLive("eBay: a scan stopped after its first page goes on from its offset; an order arriving meanwhile is not lost", () =>
    Effect.gen(function*() {
      const { state, server, poll, pollPage } = yield* setup()
      const base = Date.now() - 60 * 60_000
      for (let i = 0; i < 110; i++) state.orders.push(ebayOrder(`o-${i}`, base + i * 1000, base - i))

      const first = yield* pollPage()
      expect(first.more).toBe(true)
      expect(first.records).toHaveLength(50)
      const scan = (JSON.parse(first.cursor) as { scan: { offset: number } }).scan
      expect(scan.offset).toBe(50)

      // Meanwhile a new order, created last (eBay lists the newest first): every order moves one place on.
      state.orders.push(ebayOrder("late", Date.now() - 5 * 60_000))
      const rest = yield* poll(first.cursor)
      const ids = [...first.records, ...rest.records].map((r) => r.externalOrderId)
      // Every order of the window, none skipped (the one pushed across the page boundary comes twice).
      expect(new Set(ids)).toEqual(new Set(Array.from({ length: 110 }, (_, i) => `o-${i}`)))
      expect(ids.length).toBeLessThanOrEqual(111)
      expect(JSON.parse(rest.cursor)).not.toHaveProperty("scan")

      // The order that came meanwhile is in the next window, and nothing else is repeated.
      const next = yield* poll(rest.cursor)
      expect(next.records.map((r) => r.externalOrderId)).toEqual(["late"])
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("Google Shopping: a scan stopped between pages goes on from its page token, dated as one scan", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      google.state.catalog = ["sku-1", "sku-2", "sku-3", "sku-4", "sku-5"].map((sku) => listedProduct(sku))

      const page1 = yield* run(googleShoppingAdapter.pollPage(context, Option.none()))
      expect(page1.more).toBe(true)
      expect(page1.records.map((r) => r.raw.change)).toEqual(["INITIAL", "INITIAL"])
      expect((JSON.parse(page1.cursor) as { scan: { pageToken: string } }).scan.pageToken).toBe("page-2")

      const rest = yield* run(googleShoppingAdapter.poll(context, Option.some(page1.cursor)))
      expect(rest.records.map((r) => r.externalOrderId)).toEqual(
        ["sku-3", "sku-4", "sku-5"].map((sku) => `accounts/${account}/products/en~US~${sku}`)
      )
      // One scan, one date: a page read again gives the same changes (the same event ids).
      expect(new Set([...page1.records, ...rest.records].map((r) => r.updatedAt)).size).toBe(1)

      // The next scan, stopped after its first page: sku-1 changed there; sku-5 is gone (known at the end).
      google.state.catalog = [
        listedProduct("sku-1", { disapproved: ["US"] }),
        ...["sku-2", "sku-3", "sku-4"].map((sku) => listedProduct(sku))
      ]
      const next1 = yield* run(googleShoppingAdapter.pollPage(context, Option.some(rest.cursor)))
      expect(next1.records.map((r) => [r.status, r.raw.change])).toEqual([["DISAPPROVED", "CHANGED"]])
      const next = yield* run(googleShoppingAdapter.poll(context, Option.some(next1.cursor)))
      expect(next.records.map((r) => [r.externalOrderId, r.status])).toEqual([
        [`accounts/${account}/products/en~US~sku-5`, "REMOVED"]
      ])
      expect(google.server.errors).toEqual([])
    }))
})
