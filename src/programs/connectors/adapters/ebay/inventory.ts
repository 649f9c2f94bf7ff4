import { Effect, type Schema } from "effect"
import { InventoryUpdated, ProductUpdated } from "../../../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../../../domain/EventEnvelope.ts"
import type { SyncOutcome } from "../../ConnectorAdapter.ts"
import { decodeEventData } from "../../marketplace/eventData.ts"
import { marketplaceUrl } from "../../marketplace/http.ts"
import { isRecord } from "../../marketplace/json.ts"
import { type Credentials, credentialsOf, expectStatus, invalid, segment, sellApi } from "./api.ts"
import { amount, bulkUpdatePriceQuantity, findOffers } from "./offers.ts"
import { type EbayContext, rates } from "./settings.ts"

/** eBay's SKU limit (the platform allows 100). */
const maxSkuLength = 50

const checkSku = (sku: string) =>
  sku.length > maxSkuLength
    ? Effect.fail(invalid(`sku ${sku.slice(0, maxSkuLength)}…: eBay SKUs are at most ${maxSkuLength} characters`))
    : Effect.void

const checkCurrency = (context: EbayContext, price: { readonly currency: string } | undefined) =>
  price !== undefined && price.currency !== context.settings.currency
    ? Effect.fail(
      invalid(
        `price currency ${price.currency} is not the currency of ${context.settings.marketplaceId} (${context.settings.currency})`
      )
    )
    : Effect.void

/**
 * What both event handlers do first: the seller's credentials, then the event's data, with a SKU
 * eBay takes and the marketplace's currency (checked before anything is sent).
 */
const checkedEvent = <A extends { readonly sku: string; readonly price?: { readonly currency: string } | undefined }, I>(
  context: EbayContext,
  schema: Schema.Schema<A, I>,
  event: EventEnvelope
) =>
  Effect.gen(function*() {
    const credentials = yield* credentialsOf(context)
    const data = yield* decodeEventData(schema, event)
    yield* checkSku(data.sku)
    yield* checkCurrency(context, data.price)
    return { credentials, data }
  })

/** eBay `ConditionEnum` for the platform's three conditions ("Used" is USED_EXCELLENT, condition id 3000). */
const conditions = {
  NEW: "NEW",
  USED: "USED_EXCELLENT",
  REFURBISHED: "SELLER_REFURBISHED"
} as const

/**
 * Item specifics (`aspects`: name → array of values) from the event's free-form
 * attributes: strings, numbers and booleans, or arrays of them. Other shapes
 * are left out. `brand` is also the `Brand` aspect unless the attributes name one.
 */
export const aspectsOf = (product: ProductUpdated): Record<string, Array<string>> => {
  const aspects: Record<string, Array<string>> = {}
  const scalar = (v: unknown) =>
    typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined
  for (const [name, value] of Object.entries(product.attributes)) {
    const values = (Array.isArray(value) ? value : [value]).map(scalar)
    if (values.length > 0 && values.every((v): v is string => v !== undefined)) aspects[name] = values
  }
  if (product.brand !== undefined && !Object.keys(aspects).some((k) => k.toLowerCase() === "brand")) {
    aspects.Brand = [product.brand]
  }
  return aspects
}

/**
 * The `createOrReplaceInventoryItem` payload. It replaces the whole record, so
 * every field this connector manages is sent every time (an empty description
 * or image list clears eBay's). Fields it does not manage (package weight and
 * size, product identifiers, multi-warehouse availability) are not sent and so
 * do not survive the replace.
 */
export const inventoryItemBody = (product: ProductUpdated, quantity: number) => ({
  availability: { shipToLocationAvailability: { quantity } },
  condition: conditions[product.condition],
  product: {
    title: product.title,
    description: product.description,
    imageUrls: product.imageUrls,
    aspects: aspectsOf(product),
    ...(product.brand !== undefined ? { brand: product.brand } : {})
  }
})

const inventoryItemPath = (sku: string) => `/sell/inventory/v1/inventory_item/${segment(sku)}`

/**
 * The item's current ship-to-home quantity (`getInventoryItem`); 0 for an item
 * eBay does not have yet (404) or one without availability.
 */
const currentQuantity = (context: EbayContext, credentials: Credentials, sku: string) =>
  Effect.gen(function*() {
    const response = yield* sellApi(context, credentials, {
      method: "GET",
      url: marketplaceUrl(context.settings.baseUrl, inventoryItemPath(sku)),
      operation: "getInventoryItem",
      ...rates.inventory
    })
    if (response.status === 404) return 0
    yield* expectStatus("getInventoryItem", response, [200])
    const body = response.body
    const availability = isRecord(body) && isRecord(body.availability) ? body.availability : {}
    const shipTo = isRecord(availability.shipToLocationAvailability) ? availability.shipToLocationAvailability : {}
    return typeof shipTo.quantity === "number" && Number.isInteger(shipTo.quantity) && shipTo.quantity >= 0
      ? shipTo.quantity
      : 0
  })

/**
 * product.updated: the inventory item, replaced as a whole. Its quantity is the
 * event's; an event without one keeps eBay's current quantity (read first with
 * `getInventoryItem`; 0 for a new item), since leaving availability out of the
 * replace would drop it. With a price, the SKU's published offers are repriced
 * (and given the event's quantity, when it has one); a SKU with no offer yet
 * only gets its item (the offer is created and priced on eBay's side), and the
 * run still counts that one record.
 */
export const upsertInventoryItem = (context: EbayContext, event: EventEnvelope) =>
  Effect.gen(function*() {
    const { credentials, data: product } = yield* checkedEvent(context, ProductUpdated, event)

    const quantity = product.quantity ?? (yield* currentQuantity(context, credentials, product.sku))
    const response = yield* sellApi(context, credentials, {
      method: "PUT",
      url: marketplaceUrl(context.settings.baseUrl, inventoryItemPath(product.sku)),
      headers: { "content-language": context.settings.contentLanguage },
      json: inventoryItemBody(product, quantity),
      operation: "createOrReplaceInventoryItem",
      ...rates.inventory
    })
    yield* expectStatus("createOrReplaceInventoryItem", response, [200, 201, 204])

    const price = product.price
    if (price !== undefined) {
      const offers = yield* findOffers(context, credentials, product.sku)
      if (offers.length === 0) {
        yield* Effect.logInfo("eBay: no published offer for the SKU; price not sent").pipe(
          Effect.annotateLogs({ configId: context.configId, sku: product.sku })
        )
      } else {
        yield* bulkUpdatePriceQuantity(context, credentials, [{
          sku: product.sku,
          offers: offers.map((o) => ({
            offerId: o.offerId,
            ...(product.quantity !== undefined ? { availableQuantity: product.quantity } : {}),
            price: amount(price)
          }))
        }])
      }
    }
    return { entityType: "listing", recordCount: 1 } satisfies SyncOutcome
  })

/**
 * inventory.updated: the item's ship-to-home quantity and every published
 * offer's available quantity (and price, when given), in one bulk call.
 */
export const updateInventory = (context: EbayContext, event: EventEnvelope) =>
  Effect.gen(function*() {
    const { credentials, data: stock } = yield* checkedEvent(context, InventoryUpdated, event)

    const price = stock.price
    const offers = yield* findOffers(context, credentials, stock.sku)
    yield* bulkUpdatePriceQuantity(context, credentials, [{
      sku: stock.sku,
      shipToLocationAvailability: { quantity: stock.quantity },
      ...(offers.length > 0
        ? {
          offers: offers.map((o) => ({
            offerId: o.offerId,
            availableQuantity: stock.quantity,
            ...(price !== undefined ? { price: amount(price) } : {})
          }))
        }
        : {})
    }])
    return { entityType: "inventory", recordCount: 1 } satisfies SyncOutcome
  })
