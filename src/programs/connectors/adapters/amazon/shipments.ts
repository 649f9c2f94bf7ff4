import { Effect, Schema } from "effect"
import { OrderFulfilled } from "../../../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../../../domain/EventEnvelope.ts"
import { ConnectorError, type SyncOutcome } from "../../ConnectorAdapter.ts"
import { unexpected } from "../../marketplace/errors.ts"
import { decodeEventData } from "../../marketplace/eventData.ts"
import type { MarketplaceResponse } from "../../marketplace/http.ts"
import { expectSuccess, segment, spApi } from "./api.ts"
import { type AmazonContext, rates } from "./settings.ts"

/** Orders API v0: `confirmShipment` (order.fulfilled), with `getOrderItems` to find Amazon's item ids by SKU. */

const OrderItemsPage = Schema.Struct({
  payload: Schema.Struct({
    NextToken: Schema.optional(Schema.String),
    OrderItems: Schema.Array(Schema.Struct({
      OrderItemId: Schema.String,
      SellerSKU: Schema.optional(Schema.String),
      QuantityOrdered: Schema.Number,
      QuantityShipped: Schema.optional(Schema.Number)
    }))
  })
})
type AmazonOrderItem = typeof OrderItemsPage.Type["payload"]["OrderItems"][number]

/** All of an order's items (`getOrderItems`, following `NextToken`). */
const listOrderItems = (context: AmazonContext, orderId: string) =>
  Effect.gen(function*() {
    const items: Array<AmazonOrderItem> = []
    const seen = new Set<string>()
    let nextToken: string | undefined = undefined
    do {
      const response: MarketplaceResponse = yield* spApi(context, {
        method: "GET",
        path: `/orders/v0/orders/${segment(orderId)}/orderItems`,
        query: nextToken !== undefined ? { NextToken: nextToken } : {},
        operation: "getOrderItems",
        ...rates.getOrderItems
      })
      yield* expectSuccess("getOrderItems", response)
      const page = yield* Schema.decodeUnknown(OrderItemsPage)(response.body).pipe(
        Effect.mapError((e) => unexpected("getOrderItems", e))
      )
      items.push(...page.payload.OrderItems)
      nextToken = page.payload.NextToken === "" ? undefined : page.payload.NextToken
      if (nextToken !== undefined) {
        if (seen.has(nextToken)) {
          return yield* Effect.fail(
            new ConnectorError({ kind: "Unavailable", message: "getOrderItems: the same NextToken came back twice" })
          )
        }
        seen.add(nextToken)
      }
    } while (nextToken !== undefined)
    return items
  })

const isAmazonOrder = (order: OrderFulfilled) =>
  order.externalOrderId !== undefined && order.externalOrderId !== "" &&
  (order.marketplace === undefined || order.marketplace.toLowerCase().startsWith("amazon"))

/** The `orderItems` of the confirmation: the event's items by id or SKU, or every unshipped item. */
const shippedItems = (orderId: string, order: OrderFulfilled, amazonItems: ReadonlyArray<AmazonOrderItem>) =>
  Effect.gen(function*() {
    const bySku = new Map<string, string>()
    for (const item of amazonItems) {
      if (item.SellerSKU !== undefined && !bySku.has(item.SellerSKU)) bySku.set(item.SellerSKU, item.OrderItemId)
    }
    const orderItems: Array<{ orderItemId: string; quantity: number }> = []
    if (order.items.length === 0) {
      // The whole order shipped: every item's unshipped quantity.
      for (const item of amazonItems) {
        const quantity = item.QuantityOrdered - (item.QuantityShipped ?? 0)
        if (quantity > 0) orderItems.push({ orderItemId: item.OrderItemId, quantity })
      }
      return orderItems
    }
    for (const item of order.items) {
      const orderItemId = item.externalItemId ?? (item.sku !== undefined ? bySku.get(item.sku) : undefined)
      if (orderItemId === undefined) {
        return yield* Effect.fail(
          new ConnectorError({
            kind: "Invalid",
            message: item.sku === undefined
              ? `order.fulfilled ${orderId}: an item has neither externalItemId nor sku`
              : `order.fulfilled ${orderId}: Amazon order has no item with SellerSKU ${item.sku}`
          })
        )
      }
      orderItems.push({ orderItemId, quantity: item.quantity })
    }
    return orderItems
  })

export const confirmShipment = (context: AmazonContext, event: EventEnvelope) =>
  Effect.gen(function*() {
    const order = yield* decodeEventData(OrderFulfilled, event)
    // Not sold on Amazon (no Amazon order id): nothing to tell Amazon.
    if (!isAmazonOrder(order)) return { entityType: "shipment", recordCount: 0 } satisfies SyncOutcome
    const orderId = order.externalOrderId!
    const shipDate = Date.parse(order.shipDate)
    if (Number.isNaN(shipDate)) {
      return yield* Effect.fail(
        new ConnectorError({ kind: "Invalid", message: `order.fulfilled ${orderId}: shipDate is not an ISO-8601 date` })
      )
    }

    const needsLookup = order.items.length === 0 || order.items.some((item) => item.externalItemId === undefined)
    const amazonItems = needsLookup ? yield* listOrderItems(context, orderId) : []
    const orderItems = yield* shippedItems(orderId, order, amazonItems)
    if (orderItems.length === 0) return { entityType: "shipment", recordCount: 0 } satisfies SyncOutcome

    const response = yield* spApi(context, {
      method: "POST",
      path: `/orders/v0/orders/${segment(orderId)}/shipmentConfirmation`,
      json: {
        marketplaceId: context.settings.marketplaceId,
        packageDetail: {
          packageReferenceId: "1",
          carrierCode: order.carrierCode,
          trackingNumber: order.trackingNumber,
          shipDate: new Date(shipDate).toISOString(),
          orderItems
        }
      },
      operation: "confirmShipment",
      ...rates.confirmShipment
    })
    yield* expectSuccess("confirmShipment", response)
    return { entityType: "shipment", recordCount: 1 } satisfies SyncOutcome
  })
