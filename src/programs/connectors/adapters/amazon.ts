import { Clock, Duration, Effect, Option, ParseResult, Redacted, Schema } from "effect"
import {
  type ImportedOrder,
  InventoryUpdated,
  OrderFulfilled,
  ProductUpdated
} from "../../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../../domain/EventEnvelope.ts"
import type { HttpOut } from "../../../services/HttpOut.ts"
import {
  type ConnectorAdapter,
  type ConnectorContext,
  ConnectorError,
  type PollOutcome,
  type SyncOutcome
} from "../ConnectorAdapter.ts"
import {
  isRecord,
  marketplaceCall,
  type MarketplaceRequest,
  type MarketplaceResponse,
  rejected,
  requireCredential,
  str
} from "../marketplaceHttp.ts"
import { httpUrl, PollIntervalSeconds } from "../settings.ts"

/**
 * Amazon Selling Partner API (SP-API) connector.
 *
 * - Listings Items API 2021-08-01: `putListingsItem` (product.updated),
 *   `patchListingsItem` (inventory.updated).
 * - Orders API v0: `confirmShipment` (order.fulfilled, with `getOrderItems`
 *   to find Amazon's order item ids by SKU), `getOrders` (poll).
 * - Login with Amazon (LWA) refresh-token grant for the access token, sent as
 *   `x-amz-access-token` (no SigV4 signing since 2023-10).
 *
 * Shapes as in amzn/selling-partner-api-models (`listingsItems_2021-08-01.json`,
 * `ordersV0.json`); rates are the published default usage plans.
 */

export const AmazonSettings = Schema.Struct({
  /** The selling partner (merchant) id: the `{sellerId}` of the Listings Items paths. */
  sellerId: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9]{1,64}$/, { message: () => "sellerId must be 1-64 letters or digits" })
  ),
  marketplaceId: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[A-Za-z0-9]{1,32}$/, { message: () => "marketplaceId must be 1-32 letters or digits" })
    ),
    { default: () => "ATVPDKIKX0DER" }
  ),
  /** The Amazon product type listings are submitted as (Product Type Definitions API). */
  productType: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[A-Z0-9_]{1,100}$/, { message: () => "productType must be an Amazon product type, e.g. PRODUCT" })
    ),
    { default: () => "PRODUCT" }
  ),
  /** The `language_tag` of localized listing attributes (item_name, product_description, brand). */
  languageTag: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[a-z]{2,3}_[A-Z]{2}$/, { message: () => "languageTag must look like en_US" })
    ),
    { default: () => "en_US" }
  ),
  baseUrl: Schema.optionalWith(httpUrl("baseUrl"), { default: () => "https://sellingpartnerapi-na.amazon.com" }),
  tokenUrl: Schema.optionalWith(httpUrl("tokenUrl"), { default: () => "https://api.amazon.com/auth/o2/token" }),
  pollIntervalSeconds: PollIntervalSeconds
})
export type AmazonSettings = typeof AmazonSettings.Type

type Context = ConnectorContext<AmazonSettings>

// --- published usage plans (requests per second, burst) ---------------------

const rates = {
  listings: { ratePerSecond: 5, burst: 10 },
  getOrders: { ratePerSecond: 0.0167, burst: 20 },
  getOrderItems: { ratePerSecond: 0.5, burst: 30 },
  confirmShipment: { ratePerSecond: 2, burst: 10 },
  // LWA publishes no rate; this only keeps a misbehaving loop from hammering it.
  token: { ratePerSecond: 1, burst: 5 }
} as const

// --- errors -----------------------------------------------------------------


/**
 * The marketplace's own words: SP-API `{"errors": [{code, message, details}]}`,
 * LWA `{"error", "error_description"}`, else the start of the body.
 */
export const describeAmazonError = (response: MarketplaceResponse): string => {
  const body = response.body
  if (isRecord(body)) {
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      return body.errors
        .map((e) => {
          if (!isRecord(e)) return str(e)
          const head = [str(e.code), str(e.message)].filter((s) => s !== "").join(": ")
          return str(e.details) !== "" ? `${head} (${str(e.details)})` : head
        })
        .join("; ")
    }
    if (typeof body.error === "string") {
      return typeof body.error_description === "string" ? `${body.error}: ${body.error_description}` : body.error
    }
  }
  const text = response.text.trim()
  return text === "" ? `HTTP ${response.status}` : text.slice(0, 500)
}

const unexpected = (operation: string, error: ParseResult.ParseError) =>
  new ConnectorError({
    kind: "Unavailable",
    message: `${operation}: unexpected response: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
  })

// --- Login with Amazon --------------------------------------------------------

const LwaTokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  expires_in: Schema.Number
})

const credentialValue = (context: Context, key: string) =>
  Effect.map(requireCredential(context, key), (value) => Redacted.value(value!))

/** A refresh-token grant; a 4xx (bad client or revoked refresh token) is a configuration problem. */
const fetchAccessToken = (context: Context) =>
  Effect.gen(function*() {
    const clientId = yield* credentialValue(context, "api-key")
    const clientSecret = yield* credentialValue(context, "api-secret")
    const refreshToken = yield* credentialValue(context, "refresh-token")
    const response = yield* marketplaceCall(context, {
      method: "POST",
      url: context.settings.tokenUrl,
      form: {
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: clientId,
        client_secret: clientSecret
      },
      operation: "lwa.token",
      ...rates.token
    }, { describeError: describeAmazonError })
    if (response.status !== 200) {
      return yield* Effect.fail(
        new ConnectorError({
          kind: response.status >= 400 && response.status < 500 ? "Misconfigured" : "Unavailable",
          message: `lwa.token: HTTP ${response.status}: ${describeAmazonError(response)}`
        })
      )
    }
    const token = yield* Schema.decodeUnknown(LwaTokenResponse)(response.body).pipe(
      Effect.mapError((e) => unexpected("lwa.token", e))
    )
    return { accessToken: token.access_token, expiresInSeconds: token.expires_in }
  })

const accessToken = (context: Context) => context.tokens.get(fetchAccessToken(context))

// --- SP-API calls -------------------------------------------------------------

const segment = encodeURIComponent

const spUrl = (context: Context, path: string, query: Readonly<Record<string, string>>) => {
  const base = context.settings.baseUrl.replace(/\/+$/, "")
  const search = new URLSearchParams(query).toString()
  return `${base}${path}${search === "" ? "" : `?${search}`}`
}

/**
 * SP-API answers an expired or invalid access token with a 403 (`Unauthorized`,
 * "…token…expired/invalid") as well as with a 401: both get one fresh token.
 */
const isTokenRejection = (response: MarketplaceResponse) => {
  if (response.status !== 403 || !isRecord(response.body) || !Array.isArray(response.body.errors)) return false
  return response.body.errors.some((e) => {
    if (!isRecord(e)) return false
    const text = `${str(e.message)} ${str(e.details)}`
    return /token/i.test(text) && /(expired|invalid|malformed)/i.test(text)
  })
}

const spApi = (
  context: Context,
  request: Omit<MarketplaceRequest, "url"> & { readonly path: string; readonly query?: Readonly<Record<string, string>> }
): Effect.Effect<MarketplaceResponse, ConnectorError, HttpOut> => {
  const { path, query, ...rest } = request
  const call = marketplaceCall(context, { ...rest, url: spUrl(context, path, query ?? {}) }, {
    auth: (token) => ({ "x-amz-access-token": token }),
    token: accessToken(context),
    describeError: describeAmazonError
  })
  return Effect.flatMap(call, (response) =>
    isTokenRejection(response) ? Effect.zipRight(context.tokens.invalidate, call) : Effect.succeed(response))
}

/** 2xx passes; any other answer (4xx; a 401 that survived a fresh token) is a rejection with Amazon's message. */
const expectSuccess = (operation: string, response: MarketplaceResponse) =>
  response.status >= 200 && response.status < 300
    ? Effect.succeed(response)
    : Effect.fail(rejected(operation, response, describeAmazonError(response)))

const decodeEventData = <A, I>(schema: Schema.Schema<A, I>, event: EventEnvelope) =>
  Schema.decodeUnknown(schema)(event.data).pipe(
    Effect.mapError((e) =>
      new ConnectorError({
        kind: "Invalid",
        message: `${event.eventType} ${event.eventId}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`
      })
    )
  )

// --- Listings Items API ---------------------------------------------------------

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
  context: Context,
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

const upsertListing = (context: Context, event: EventEnvelope) =>
  Effect.gen(function*() {
    const product = yield* decodeEventData(ProductUpdated, event)
    yield* submitListing(context, "putListingsItem", product.sku, {
      productType: context.settings.productType,
      requirements: "LISTING",
      attributes: listingAttributes(context.settings, product)
    })
    return { entityType: "listing", recordCount: 1 } satisfies SyncOutcome
  })

const updateInventory = (context: Context, event: EventEnvelope) =>
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

// --- Orders API: shipment confirmation ----------------------------------------------

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
const listOrderItems = (context: Context, orderId: string) =>
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

const confirmShipment = (context: Context, event: EventEnvelope) =>
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
    } else {
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
    }
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

// --- Orders API: poll ---------------------------------------------------------------

const OrdersPage = Schema.Struct({
  payload: Schema.Struct({
    NextToken: Schema.optional(Schema.String),
    LastUpdatedBefore: Schema.optional(Schema.String),
    Orders: Schema.Array(Schema.Struct({
      AmazonOrderId: Schema.String,
      LastUpdateDate: Schema.String,
      OrderStatus: Schema.String
    }))
  })
})

/** `LastUpdatedBefore` must be at least 2 minutes before now. */
const settleTime = Duration.minutes(2)
/** The first poll of a config looks this far back. */
const firstLookback = Duration.days(1)

/** ISO-8601 to the second (what Amazon's own dates carry). */
const isoSeconds = (millis: number) => new Date(Math.floor(millis / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")

/**
 * Orders updated in [cursor, now − 2 min], following `NextToken` (a NextToken
 * request carries only `MarketplaceIds` and the token: per the model, the
 * token replaces every other criterion).
 *
 * The returned cursor is the `LastUpdatedBefore` bound of this poll, not the
 * newest `LastUpdateDate` seen. Amazon's window is inclusive at both ends and
 * lags (hence the 2-minute rule), so: an order that becomes visible late with
 * an older `LastUpdateDate` is still inside the next window (the max-seen cursor
 * would skip it), and an empty poll still moves on. An order updated exactly at
 * the bound is returned by this poll and again by the next one — a repeat,
 * never a gap; `(externalOrderId, updatedAt)` identifies the change so the
 * repeat is recognisable downstream. A failed page fails the whole poll and
 * the cursor stays where it was.
 */
const pollOrders = (context: Context, cursor: Option.Option<string>) =>
  Effect.gen(function*() {
    const { marketplaceId } = context.settings
    const now = yield* Clock.currentTimeMillis
    const before = Math.floor((now - Duration.toMillis(settleTime)) / 1000) * 1000
    const after = Option.isSome(cursor) ? Date.parse(cursor.value) : before - Duration.toMillis(firstLookback)
    if (Number.isNaN(after)) {
      return yield* Effect.fail(
        new ConnectorError({ kind: "Invalid", message: `getOrders: cursor ${cursor.pipe(Option.getOrElse(() => ""))} is not an ISO-8601 date` })
      )
    }
    // A cursor not yet 2 minutes old (a poll right after the previous one): nothing can be asked yet.
    if (after > before) {
      return { entityType: "order", records: [], cursor: Option.getOrElse(cursor, () => isoSeconds(after)) } satisfies PollOutcome
    }

    const records: Array<ImportedOrder> = []
    const seenChanges = new Set<string>()
    const seenTokens = new Set<string>()
    let query: Record<string, string> = {
      MarketplaceIds: marketplaceId,
      LastUpdatedAfter: Option.isSome(cursor) ? cursor.value : isoSeconds(after),
      LastUpdatedBefore: isoSeconds(before),
      MaxResultsPerPage: "100"
    }
    for (;;) {
      const response: MarketplaceResponse = yield* spApi(context, {
        method: "GET",
        path: "/orders/v0/orders",
        query,
        operation: "getOrders",
        ...rates.getOrders
      })
      yield* expectSuccess("getOrders", response)
      const page = yield* Schema.decodeUnknown(OrdersPage, { onExcessProperty: "preserve" })(response.body).pipe(
        Effect.mapError((e) => unexpected("getOrders", e))
      )
      for (const order of page.payload.Orders) {
        const key = `${order.AmazonOrderId}\u0000${order.LastUpdateDate}`
        if (seenChanges.has(key)) continue
        seenChanges.add(key)
        records.push({
          externalOrderId: order.AmazonOrderId,
          updatedAt: order.LastUpdateDate,
          status: order.OrderStatus,
          raw: order as Readonly<Record<string, unknown>>
        })
      }
      const next = page.payload.NextToken
      if (next === undefined || next === "") break
      if (seenTokens.has(next)) {
        return yield* Effect.fail(
          new ConnectorError({ kind: "Unavailable", message: "getOrders: the same NextToken came back twice" })
        )
      }
      seenTokens.add(next)
      query = { MarketplaceIds: marketplaceId, NextToken: next }
    }
    return { entityType: "order", records, cursor: isoSeconds(before) } satisfies PollOutcome
  })

// --- the adapter ----------------------------------------------------------------------

export const amazonAdapter: ConnectorAdapter<AmazonSettings> = {
  connectorType: "amazon",
  supportedEvents: ["product.updated", "inventory.updated", "order.fulfilled"],
  settings: AmazonSettings,
  credentialKeys: ["api-key", "api-secret", "refresh-token"],
  pollIntervalOf: (settings) => Duration.seconds(settings.pollIntervalSeconds),
  handleEvent: (context, event) => {
    switch (event.eventType) {
      case "product.updated":
        return upsertListing(context, event)
      case "inventory.updated":
        return updateInventory(context, event)
      case "order.fulfilled":
        return confirmShipment(context, event)
      default:
        return Effect.succeed({ entityType: "none", recordCount: 0 })
    }
  },
  poll: pollOrders
}
