import { Clock, Duration, Effect, Option, ParseResult, Redacted, Schema } from "effect"
import { type ImportedOrder, InventoryUpdated, ProductUpdated } from "../../../domain/connectors/events.ts"
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
 * eBay connector: the Sell Inventory API and the Sell Fulfillment API.
 *
 * - product.updated → `createOrReplaceInventoryItem` (PUT inventory_item/{sku}, a
 *   full replace), then, when the event carries a price, `getOffers` and
 *   `bulkUpdatePriceQuantity` for the SKU's published offers.
 * - inventory.updated → `getOffers`, then `bulkUpdatePriceQuantity` (the
 *   item's ship-to-home quantity and each published offer's available quantity,
 *   and the price when the event carries one).
 * - poll → `getOrders` filtered on `lastmodifieddate`.
 * - OAuth: the refresh-token grant (a user access token, Basic client
 *   credentials), sent as `Authorization: Bearer …`.
 *
 * Shapes per developer.ebay.com (sell/inventory/v1, sell/fulfillment/v1,
 * identity/v1/oauth2/token).
 */

/** What the refresh-token grant asks for: listing management and order reading. */
export const defaultEbayScopes: ReadonlyArray<string> = [
  "https://api.ebay.com/oauth/api_scope/sell.inventory",
  "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
]

export const EbaySettings = Schema.Struct({
  baseUrl: Schema.optionalWith(httpUrl("baseUrl"), { default: () => "https://api.ebay.com" }),
  tokenUrl: Schema.optionalWith(httpUrl("tokenUrl"), {
    default: () => "https://api.ebay.com/identity/v1/oauth2/token"
  }),
  /** The marketplace whose offers are updated (`EBAY_US`, `EBAY_GB`, `EBAY_DE`, …). */
  marketplaceId: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^EBAY_[A-Z_]{2,16}$/, { message: () => "marketplaceId must be an eBay marketplace id, e.g. EBAY_US" })
    ),
    { default: () => "EBAY_US" }
  ),
  /** The `Content-Language` of inventory item payloads. */
  contentLanguage: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[a-z]{2}-[A-Z]{2}$/, { message: () => "contentLanguage must look like en-US" })
    ),
    { default: () => "en-US" }
  ),
  /** The marketplace's currency: offer prices are sent in it, and an event priced otherwise is refused. */
  currency: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[A-Z]{3}$/, { message: () => "currency must be an ISO 4217 code, e.g. USD" })),
    { default: () => "USD" }
  ),
  /** OAuth scopes of the refresh-token grant (a subset of those the seller consented to). */
  scopes: Schema.optionalWith(
    Schema.Array(
      Schema.String.pipe(Schema.pattern(/^https:\/\/\S+$/, { message: () => "scopes must be eBay OAuth scope URLs" }))
    ).pipe(Schema.minItems(1, { message: () => "scopes must not be empty" })),
    { default: () => defaultEbayScopes }
  ),
  pollIntervalSeconds: PollIntervalSeconds
})
export type EbaySettings = typeof EbaySettings.Type

type Context = ConnectorContext<EbaySettings>

// --- client-side rates ---------------------------------------------------------

/**
 * eBay publishes no per-second rates for the Sell APIs, only daily call limits
 * per application (developer.ebay.com "API Call Limits"; the OAuth refresh-token
 * grant: 50,000 a day) and answers 429 when one is exceeded. These buckets only
 * spread a burst of events so that one busy store does not burn the day's
 * allowance in a minute; 429/Retry-After is still answered by `marketplaceCall`.
 */
const rates = {
  inventory: { ratePerSecond: 5, burst: 10 },
  fulfillment: { ratePerSecond: 5, burst: 10 },
  token: { ratePerSecond: 1, burst: 5 }
} as const

// --- errors ----------------------------------------------------------------------


/** One eBay `ErrorDetailV3`: `errorId message (longMessage)`. */
const describeErrorDetail = (e: unknown) => {
  if (!isRecord(e)) return str(e)
  const message = str(e.message)
  const long = str(e.longMessage)
  const text = long !== "" && long !== message ? (message !== "" ? `${message} (${long})` : long) : message
  return str(e.errorId) !== "" ? `${str(e.errorId)} ${text}` : text
}

/**
 * eBay's own words: the REST `{"errors": [{errorId, message, longMessage, …}]}`,
 * the OAuth `{"error", "error_description"}`, else the start of the body.
 */
export const describeEbayError = (response: MarketplaceResponse): string => {
  const body = response.body
  if (isRecord(body)) {
    if (Array.isArray(body.errors) && body.errors.length > 0) return body.errors.map(describeErrorDetail).join("; ")
    if (typeof body.error === "string") {
      return typeof body.error_description === "string" ? `${body.error}: ${body.error_description}` : body.error
    }
  }
  const text = response.text.trim()
  return text === "" ? `HTTP ${response.status}` : text.slice(0, 500)
}

const unexpected = (operation: string, detail: string) =>
  new ConnectorError({ kind: "Unavailable", message: `${operation}: unexpected response: ${detail}` })

const invalid = (message: string) => new ConnectorError({ kind: "Invalid", message })

// --- OAuth -------------------------------------------------------------------------

interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
  readonly refreshToken: string
}

/** All three credentials, checked before any request is made (a missing one: Misconfigured). */
const credentialsOf = (context: Context) =>
  Effect.gen(function*() {
    const value = (key: string) => Effect.map(requireCredential(context, key), (v) => Redacted.value(v!))
    return {
      clientId: yield* value("api-key"),
      clientSecret: yield* value("api-secret"),
      refreshToken: yield* value("refresh-token")
    } satisfies Credentials
  })

const TokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  expires_in: Schema.Number
})

/**
 * The refresh-token grant. A 4xx from the token endpoint (a wrong client id or
 * secret, a revoked or expired refresh token, a scope the seller did not grant)
 * is a configuration problem: retrying it cannot help.
 */
const fetchAccessToken = (context: Context, credentials: Credentials) =>
  Effect.gen(function*() {
    const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`, "utf8").toString("base64")
    const response = yield* marketplaceCall(context, {
      method: "POST",
      url: context.settings.tokenUrl,
      headers: { authorization: `Basic ${basic}` },
      form: {
        grant_type: "refresh_token",
        refresh_token: credentials.refreshToken,
        scope: context.settings.scopes.join(" ")
      },
      operation: "oauth2.token",
      ...rates.token
    }, { describeError: describeEbayError })
    if (response.status !== 200) {
      return yield* Effect.fail(
        new ConnectorError({
          kind: response.status >= 400 && response.status < 500 ? "Misconfigured" : "Unavailable",
          message: `oauth2.token: HTTP ${response.status}: ${describeEbayError(response)}`
        })
      )
    }
    const token = yield* Schema.decodeUnknown(TokenResponse)(response.body).pipe(
      Effect.mapError((e) => unexpected("oauth2.token", ParseResult.TreeFormatter.formatErrorSync(e)))
    )
    return { accessToken: token.access_token, expiresInSeconds: token.expires_in }
  })

// --- REST calls ----------------------------------------------------------------------

const segment = encodeURIComponent

const apiUrl = (context: Context, path: string, query: Readonly<Record<string, string>> = {}) => {
  const base = context.settings.baseUrl.replace(/\/+$/, "")
  const search = new URLSearchParams(query).toString()
  return `${base}${path}${search === "" ? "" : `?${search}`}`
}

/** A Sell API call with a (cached) user access token; a 401 gets one fresh token (marketplaceCall). */
const sellApi = (context: Context, credentials: Credentials, request: MarketplaceRequest) =>
  marketplaceCall(context, request, {
    auth: (token) => ({ authorization: `Bearer ${token}` }),
    token: context.tokens.get(fetchAccessToken(context, credentials)),
    describeError: describeEbayError
  })

const expectStatus = (operation: string, response: MarketplaceResponse, expected: ReadonlyArray<number>) =>
  expected.includes(response.status)
    ? Effect.succeed(response)
    : Effect.fail(rejected(operation, response, describeEbayError(response)))

const decodeEventData = <A, I>(schema: Schema.Schema<A, I>, event: EventEnvelope) =>
  Schema.decodeUnknown(schema)(event.data).pipe(
    Effect.mapError((e) => invalid(`${event.eventType} ${event.eventId}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`))
  )

/** eBay's SKU limit (the platform allows 100). */
const maxSkuLength = 50

const checkSku = (sku: string) =>
  sku.length > maxSkuLength
    ? Effect.fail(invalid(`sku ${sku.slice(0, maxSkuLength)}…: eBay SKUs are at most ${maxSkuLength} characters`))
    : Effect.void

const checkCurrency = (context: Context, price: { readonly currency: string } | undefined) =>
  price !== undefined && price.currency !== context.settings.currency
    ? Effect.fail(
      invalid(
        `price currency ${price.currency} is not the currency of ${context.settings.marketplaceId} (${context.settings.currency})`
      )
    )
    : Effect.void

/** eBay `Amount`: the value as a decimal string. */
const amount = (price: { readonly amount: number; readonly currency: string }) => ({
  value: price.amount.toFixed(2),
  currency: price.currency
})

// --- Inventory API: items --------------------------------------------------------------

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
const currentQuantity = (context: Context, credentials: Credentials, sku: string) =>
  Effect.gen(function*() {
    const response = yield* sellApi(context, credentials, {
      method: "GET",
      url: apiUrl(context, inventoryItemPath(sku)),
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

// --- Inventory API: offers ---------------------------------------------------------------

interface Offer {
  readonly offerId: string
}

/**
 * The SKU's offers that `bulkUpdatePriceQuantity` can revise: published
 * (the call does not work on unpublished offers; those are priced when they
 * are created), fixed-price (an auction's price is not a buy-it-now price), on
 * this config's marketplace. eBay answers 404 when the SKU has no offer at all;
 * that is "none", not a failure.
 */
const findOffers = (context: Context, credentials: Credentials, sku: string) =>
  Effect.gen(function*() {
    const response = yield* sellApi(context, credentials, {
      method: "GET",
      url: apiUrl(context, "/sell/inventory/v1/offer", { sku }),
      operation: "getOffers",
      ...rates.inventory
    })
    if (response.status === 404) return [] as ReadonlyArray<Offer>
    yield* expectStatus("getOffers", response, [200])
    const body = response.body
    const offers = isRecord(body) && Array.isArray(body.offers) ? body.offers : []
    return offers.filter((o): o is Record<string, unknown> & Offer =>
      isRecord(o) && typeof o.offerId === "string" && o.offerId !== "" &&
      (o.sku === undefined || o.sku === sku) &&
      (o.marketplaceId === undefined || o.marketplaceId === context.settings.marketplaceId) &&
      (o.format === undefined || o.format === "FIXED_PRICE") &&
      (o.status === undefined || o.status === "PUBLISHED")
    ).map((o) => ({ offerId: o.offerId }))
  })

/** One entry of a `bulkUpdatePriceQuantity` request (`PriceQuantity`). */
export interface PriceQuantity {
  readonly sku: string
  readonly shipToLocationAvailability?: { readonly quantity: number }
  readonly offers?: ReadonlyArray<{
    readonly offerId: string
    readonly availableQuantity?: number
    readonly price?: { readonly value: string; readonly currency: string }
  }>
}

/** eBay takes at most 25 entries per `bulkUpdatePriceQuantity` request. */
const bulkLimit = 25

/**
 * `bulkUpdatePriceQuantity`, 25 entries a request. The call answers 200 (all
 * applied) or 207 (some failed) with one `responses[]` entry per offer or item,
 * each with its own `statusCode`: any entry other than 200 fails the run with
 * that entry's errors (Unavailable for a 5xx entry, else Rejected). Entries
 * that succeeded stay applied; the values are absolute, so a retry is harmless.
 */
const bulkUpdatePriceQuantity = (context: Context, credentials: Credentials, requests: ReadonlyArray<PriceQuantity>) =>
  Effect.gen(function*() {
    for (let i = 0; i < requests.length; i += bulkLimit) {
      const response = yield* sellApi(context, credentials, {
        method: "POST",
        url: apiUrl(context, "/sell/inventory/v1/bulk_update_price_quantity"),
        json: { requests: requests.slice(i, i + bulkLimit) },
        operation: "bulkUpdatePriceQuantity",
        ...rates.inventory
      })
      yield* expectStatus("bulkUpdatePriceQuantity", response, [200, 207])
      const body = response.body
      const entries = isRecord(body) && Array.isArray(body.responses) ? body.responses.filter(isRecord) : []
      const failures = entries.filter((e) => e.statusCode !== 200)
      if (failures.length > 0) {
        const serverSide = failures.some((e) => typeof e.statusCode === "number" && e.statusCode >= 500)
        const described = failures.map((e) => {
          const target = [`sku ${str(e.sku)}`, ...(e.offerId !== undefined ? [`offer ${str(e.offerId)}`] : [])].join(" ")
          const errors = Array.isArray(e.errors) && e.errors.length > 0
            ? e.errors.map(describeErrorDetail).join("; ")
            : "no error given"
          return `${target}: HTTP ${str(e.statusCode)}: ${errors}`
        })
        return yield* Effect.fail(
          new ConnectorError({
            kind: serverSide ? "Unavailable" : "Rejected",
            message: `bulkUpdatePriceQuantity: ${failures.length} of ${entries.length} updates failed: ${described.join(" | ")}`
          })
        )
      }
    }
  })

// --- event handling -------------------------------------------------------------------------

/**
 * product.updated: the inventory item, replaced as a whole. Its quantity is the
 * event's; an event without one keeps eBay's current quantity (read first with
 * `getInventoryItem`; 0 for a new item), since leaving availability out of the
 * replace would drop it. With a price, the SKU's published offers are repriced
 * (and given the event's quantity, when it has one); a SKU with no offer yet
 * only gets its item (the offer is created and priced on eBay's side), and the
 * run still counts that one record.
 */
const upsertInventoryItem = (context: Context, event: EventEnvelope) =>
  Effect.gen(function*() {
    const credentials = yield* credentialsOf(context)
    const product = yield* decodeEventData(ProductUpdated, event)
    yield* checkSku(product.sku)
    yield* checkCurrency(context, product.price)

    const quantity = product.quantity ?? (yield* currentQuantity(context, credentials, product.sku))
    const response = yield* sellApi(context, credentials, {
      method: "PUT",
      url: apiUrl(context, inventoryItemPath(product.sku)),
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
const updateInventory = (context: Context, event: EventEnvelope) =>
  Effect.gen(function*() {
    const credentials = yield* credentialsOf(context)
    const stock = yield* decodeEventData(InventoryUpdated, event)
    yield* checkSku(stock.sku)
    yield* checkCurrency(context, stock.price)

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

// --- Fulfillment API: poll -----------------------------------------------------------------

/** eBay's default (and the reference's) page size. */
const pageSize = 50
/** A poll gives up (and keeps its cursor) rather than page forever: 50,000 changed orders. */
const maxPages = 1_000
/**
 * How long eBay is given to make an order change visible to `getOrders`: the
 * cursor never moves past `now − settle`, so a change indexed late is still
 * inside the next poll's window (Amazon documents a 2-minute lag; eBay
 * documents none, so the same margin is assumed).
 */
const settleTime = Duration.minutes(2)
/** The first poll of a config looks this far back. */
const firstLookback = Duration.days(1)

/**
 * The poll cursor: the start of the next window (`lastmodifieddate` ≥ since,
 * eBay's filter being inclusive) and the changes at or after it that were
 * already published (`orderId@lastModifiedDate`, normalized ISO-8601).
 */
const PollCursor = Schema.parseJson(Schema.Struct({
  since: Schema.String,
  seen: Schema.Array(Schema.String)
}))

const changeKey = (orderId: string, at: number) => `${orderId}@${new Date(at).toISOString()}`

const decodeCursor = (cursor: string) =>
  Effect.gen(function*() {
    const fail = Effect.fail(
      new ConnectorError({ kind: "Misconfigured", message: `getOrders: cursor ${cursor.slice(0, 100)} is not one this connector wrote` })
    )
    // A bare ISO-8601 date (e.g. set by hand): from then on, nothing seen yet.
    if (!cursor.trimStart().startsWith("{")) {
      const at = Date.parse(cursor)
      return Number.isNaN(at) ? yield* fail : { since: at, seen: new Set<string>() }
    }
    const decoded = Schema.decodeUnknownOption(PollCursor)(cursor)
    if (Option.isNone(decoded)) return yield* fail
    const since = Date.parse(decoded.value.since)
    return Number.isNaN(since) ? yield* fail : { since, seen: new Set(decoded.value.seen) }
  })

/** `getOrders` with `filter=lastmodifieddate:[since..]`, eBay's brackets percent-encoded as its docs require. */
const ordersUrl = (context: Context, since: number, offset: number) =>
  `${context.settings.baseUrl.replace(/\/+$/, "")}/sell/fulfillment/v1/order` +
  `?filter=lastmodifieddate:%5B${new Date(since).toISOString()}..%5D&limit=${pageSize}&offset=${offset}`

interface FetchedOrder {
  readonly orderId: string
  readonly at: number
  readonly updatedAt: string
  readonly status: string
  readonly raw: Record<string, unknown>
}

/**
 * Orders modified since the cursor, every page of them.
 *
 * Pages: `offset` advances by `limit` while eBay says there is more (`next`,
 * or `offset + limit < total`) and a page is not empty. The URLs are built
 * here rather than taken from `next`, so the access token only ever goes to
 * the configured base URL.
 *
 * The cursor (ties and lags):
 * - eBay's `lastmodifieddate:[t..]` is inclusive, and several orders can share
 *   a millisecond. The next window starts AT the newest change seen (not just
 *   after it: a later-indexed order with that same timestamp is still fetched),
 *   and the changes at or after that point that were published are listed in
 *   the cursor and skipped when they come back — no repeat, no gap.
 * - The start never moves past `now − settle`: changes newer than that stay in
 *   the next window (skipping those already published), so a change that eBay
 *   indexes a little late, or one made while this poll was paging (offsets over
 *   a changing result can shift), is picked up next time.
 * - An order seen twice in one poll (shifted across a page boundary, or
 *   modified meanwhile) is published once, at its newest change.
 * A failed page fails the poll; the stored cursor stays where it was.
 */
const pollOrders = (context: Context, cursor: Option.Option<string>) =>
  Effect.gen(function*() {
    const credentials = yield* credentialsOf(context)
    const now = yield* Clock.currentTimeMillis
    const horizon = now - Duration.toMillis(settleTime)
    const from = Option.isSome(cursor)
      ? yield* decodeCursor(cursor.value)
      : { since: now - Duration.toMillis(firstLookback), seen: new Set<string>() }

    const fetched = new Map<string, FetchedOrder>()
    for (let page = 0, offset = 0;; page++) {
      if (page >= maxPages) {
        return yield* Effect.fail(
          new ConnectorError({ kind: "Unavailable", message: `getOrders: more than ${maxPages} pages of changed orders` })
        )
      }
      const response: MarketplaceResponse = yield* sellApi(context, credentials, {
        method: "GET",
        url: ordersUrl(context, from.since, offset),
        operation: "getOrders",
        ...rates.fulfillment
      })
      yield* expectStatus("getOrders", response, [200])
      const body = response.body
      if (!isRecord(body)) return yield* Effect.fail(unexpected("getOrders", "the body is not a JSON object"))
      const orders = Array.isArray(body.orders) ? body.orders : []
      for (const order of orders) {
        if (!isRecord(order) || typeof order.orderId !== "string" || typeof order.lastModifiedDate !== "string") {
          return yield* Effect.fail(unexpected("getOrders", "an order without orderId or lastModifiedDate"))
        }
        const at = Date.parse(order.lastModifiedDate)
        if (Number.isNaN(at)) {
          return yield* Effect.fail(unexpected("getOrders", `order ${order.orderId}: lastModifiedDate is not a date`))
        }
        const previous = fetched.get(order.orderId)
        if (previous === undefined || previous.at <= at) {
          fetched.set(order.orderId, {
            orderId: order.orderId,
            at,
            updatedAt: order.lastModifiedDate,
            status: str(order.orderFulfillmentStatus),
            raw: order
          })
        }
      }
      offset += pageSize
      const total = typeof body.total === "number" ? body.total : undefined
      const more = (typeof body.next === "string" && body.next !== "") || (total !== undefined && offset < total)
      if (orders.length === 0 || !more) break
    }

    const changes = [...fetched.values()].sort((a, b) => a.at - b.at || (a.orderId < b.orderId ? -1 : 1))
    const records: Array<ImportedOrder> = changes
      .filter((o) => !from.seen.has(changeKey(o.orderId, o.at)))
      .map((o) => ({ externalOrderId: o.orderId, updatedAt: o.updatedAt, status: o.status, raw: o.raw }))

    const newest = changes.reduce((max, o) => Math.max(max, o.at), from.since)
    const since = Math.max(from.since, Math.min(newest, horizon))
    const seen = changes.filter((o) => o.at >= since).map((o) => changeKey(o.orderId, o.at))
    const next = Schema.encodeSync(PollCursor)({ since: new Date(since).toISOString(), seen })
    return { entityType: "order", records, cursor: next } satisfies PollOutcome
  })

// --- the adapter ----------------------------------------------------------------------------

export const ebayAdapter: ConnectorAdapter<EbaySettings> = {
  connectorType: "ebay",
  supportedEvents: ["product.updated", "inventory.updated"],
  settings: EbaySettings,
  credentialKeys: ["api-key", "api-secret", "refresh-token"],
  pollIntervalOf: (settings) => Duration.seconds(settings.pollIntervalSeconds),
  handleEvent: (context, event): Effect.Effect<SyncOutcome, ConnectorError, HttpOut> => {
    switch (event.eventType) {
      case "product.updated":
        return upsertInventoryItem(context, event)
      case "inventory.updated":
        return updateInventory(context, event)
      default:
        return Effect.succeed({ entityType: "none", recordCount: 0 })
    }
  },
  poll: pollOrders
}
