import { Effect, Schema } from "effect"
import { InventoryUpdated, ProductUpdated } from "../../../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../../../domain/EventEnvelope.ts"
import { ConnectorError, type SyncOutcome } from "../../ConnectorAdapter.ts"
import { unexpected } from "../../marketplace/errors.ts"
import { decodeEventData } from "../../marketplace/eventData.ts"
import { isRecord } from "../../marketplace/json.ts"
import { expectSuccess, segment, spApi } from "./api.ts"
import { type AmazonContext, type AmazonSettings, rates } from "./settings.ts"

/** Listings Items API 2021-08-01: `putListingsItem` (product.updated), `patchListingsItem` (inventory.updated). */

const ListingsSubmission = Schema.Struct({
  status: Schema.String,
  submissionId: Schema.optional(Schema.String),
  issues: Schema.optionalWith(
    Schema.Array(Schema.Struct({
      code: Schema.optional(Schema.String),
      message: Schema.optional(Schema.String),
      severity: Schema.optional(Schema.String),
      attributeNames: Schema.optional(Schema.Array(Schema.String))
    })),
    { default: () => [] }
  )
})

const describeIssues = (issues: typeof ListingsSubmission.Type["issues"]) =>
  issues.length === 0
    ? "no issues given"
    : issues
      .map((i) =>
        `${i.severity ?? "ERROR"} ${i.code ?? "?"}: ${i.message ?? ""}${
          i.attributeNames !== undefined && i.attributeNames.length > 0 ? ` [${i.attributeNames.join(", ")}]` : ""
        }`
      )
      .join("; ")

/** A 200 is only a success when the submission was ACCEPTED; INVALID carries the issues. */
const submitListing = (
  context: AmazonContext,
  operation: "putListingsItem" | "patchListingsItem",
  sku: string,
  json: unknown
) =>
  Effect.gen(function*() {
    const { sellerId, marketplaceId } = context.settings
    const response = yield* spApi(context, {
      method: operation === "putListingsItem" ? "PUT" : "PATCH",
      path: `/listings/2021-08-01/items/${segment(sellerId)}/${segment(sku)}`,
      query: { marketplaceIds: marketplaceId },
      json,
      operation: "listingsItems",
      ...rates.listings
    })
    yield* expectSuccess(operation, response)
    const submission = yield* Schema.decodeUnknown(ListingsSubmission)(response.body).pipe(
      Effect.mapError((e) => unexpected(operation, e))
    )
    if (submission.status === "INVALID") {
      return yield* Effect.fail(
        new ConnectorError({
          kind: "Invalid",
          message: `${operation} ${sku}: INVALID: ${describeIssues(submission.issues)}`
        })
      )
    }
    return submission
  })

const conditionTypes = {
  NEW: "new_new",
  USED: "used_good",
  REFURBISHED: "refurbished_refurbished"
} as const

/** Amazon allows a main image and up to eight others. */
const otherImageSlots = 8

const offerAttribute = (marketplaceId: string, price: { readonly amount: number; readonly currency: string }) => [{
  marketplace_id: marketplaceId,
  currency: price.currency,
  our_price: [{ schedule: [{ value_with_tax: price.amount }] }]
}]

/**
 * The platform's product as SP-API listing attributes (each attribute an array
 * of values, per marketplace and language where the attribute is localized).
 * Entries of the event's free-form `attributes` that already have the SP-API
 * shape (an array of objects, e.g. `bullet_point`) are passed through; the
 * mapped fields win over them.
 */
export const listingAttributes = (settings: AmazonSettings, product: ProductUpdated): Record<string, unknown> => {
  const { languageTag: language_tag, marketplaceId: marketplace_id } = settings
  const attributes: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(product.attributes)) {
    if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) attributes[name] = value
  }
  attributes.item_name = [{ value: product.title, language_tag, marketplace_id }]
  if (product.description !== "") {
    attributes.product_description = [{ value: product.description, language_tag, marketplace_id }]
  }
  if (product.brand !== undefined) attributes.brand = [{ value: product.brand, language_tag, marketplace_id }]
  attributes.condition_type = [{ value: conditionTypes[product.condition], marketplace_id }]
  if (product.price !== undefined) {
    attributes.purchasable_offer = offerAttribute(marketplace_id, product.price)
    attributes.list_price = [{ value_with_tax: product.price.amount, currency: product.price.currency, marketplace_id }]
  }
  const [main, ...others] = product.imageUrls
  if (main !== undefined) attributes.main_product_image_locator = [{ media_location: main, marketplace_id }]
  others.slice(0, otherImageSlots).forEach((url, i) => {
    attributes[`other_product_image_locator_${i + 1}`] = [{ media_location: url, marketplace_id }]
  })
  if (product.quantity !== undefined) {
    attributes.fulfillment_availability = [{ fulfillment_channel_code: "DEFAULT", quantity: product.quantity }]
  }
  return attributes
}

/** product.updated: the whole listing (`putListingsItem`, requirements LISTING). */
export const upsertListing = (context: AmazonContext, event: EventEnvelope) =>
  Effect.gen(function*() {
    const product = yield* decodeEventData(ProductUpdated, event)
    yield* submitListing(context, "putListingsItem", product.sku, {
      productType: context.settings.productType,
      requirements: "LISTING",
      attributes: listingAttributes(context.settings, product)
    })
    return { entityType: "listing", recordCount: 1 } satisfies SyncOutcome
  })

/** inventory.updated: the quantity (and the offer, with a price) as JSON patches. */
export const updateInventory = (context: AmazonContext, event: EventEnvelope) =>
  Effect.gen(function*() {
    const stock = yield* decodeEventData(InventoryUpdated, event)
    const patches: Array<{ op: "replace"; path: string; value: ReadonlyArray<unknown> }> = [{
      op: "replace",
      path: "/attributes/fulfillment_availability",
      value: [{ fulfillment_channel_code: "DEFAULT", quantity: stock.quantity }]
    }]
    if (stock.price !== undefined) {
      patches.push({
        op: "replace",
        path: "/attributes/purchasable_offer",
        value: offerAttribute(context.settings.marketplaceId, stock.price)
      })
    }
    yield* submitListing(context, "patchListingsItem", stock.sku, {
      productType: context.settings.productType,
      patches
    })
    return { entityType: "inventory", recordCount: 1 } satisfies SyncOutcome
  })
