/**
 * A local fake of eBay's Sell Inventory and Fulfillment APIs and its OAuth
 * token endpoint for the eBay connector tests, checking each request against
 * the reference, and the set-up that runs the adapter against it.
 */
import { Effect, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import type { ConnectorError } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { defaultEbayScopes, ebayAdapter } from "../../src/programs/connectors/adapters/ebay/index.ts"
import { makeConnectorContext } from "../../src/programs/connectors/context.ts"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { makeHttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"
import { type FakeRequest, type FakeResponse, fakeServer, json } from "./fakeServer.ts"


export const CLIENT_ID = "ShopSTAR-client-PRD-1234"
export const CLIENT_SECRET = "PRD-secret-5678"
export const REFRESH_TOKEN = "v^1.1#i^1#refresh-token-9012"
export const TOKEN_PATH = "/identity/v1/oauth2/token"

// --- the fake eBay ----------------------------------------------------------------

export type Json = Record<string, any>

export interface EbayState {
  expiresIn: number
  tokensIssued: number
  /** false: tokens are issued but every Sell API call answers 401 (e.g. a scope not granted). */
  acceptTokens: boolean
  readonly validTokens: Set<string>
  /** Every bearer token the Sell API calls presented (valid or not). */
  readonly bearers: Array<string>
  readonly items: Map<string, Json>
  readonly offers: Map<string, Array<Json>>
  readonly orders: Array<Json>
  /** Per-offer failures for bulk_update_price_quantity. */
  readonly failOffers: Map<string, { statusCode: number; errors: Array<Json> }>
  /** One-shot answers, used (and removed) by the first request they match. */
  readonly script: Array<{ readonly match: (r: FakeRequest) => boolean; readonly response: FakeResponse }>
}

export const newState = (expiresIn = 7200): EbayState => ({
  expiresIn,
  tokensIssued: 0,
  acceptTokens: true,
  validTokens: new Set(),
  bearers: [],
  items: new Map(),
  offers: new Map(),
  orders: [],
  failOffers: new Map(),
  script: []
})

export const check = (condition: unknown, message: string): void => {
  if (!condition) throw new Error(message)
}
export const keysOf = (u: unknown) => (typeof u === "object" && u !== null ? Object.keys(u).sort() : [])
export const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
export const isCount = (u: unknown) => typeof u === "number" && Number.isInteger(u) && u >= 0

export const ebayErrors = (errorId: number, message: string, longMessage?: string) => ({
  errors: [{
    errorId,
    domain: "API_INVENTORY",
    category: "REQUEST",
    message,
    ...(longMessage !== undefined ? { longMessage } : {})
  }]
})

export const conditions = new Set(["NEW", "USED_EXCELLENT", "SELLER_REFURBISHED"])

/** `InventoryItem` as createOrReplaceInventoryItem takes it (the fields this connector sends). */
export const checkInventoryItem = (body: unknown) => {
  check(isObject(body), "inventory item: body is not a JSON object")
  check(
    JSON.stringify(keysOf(body)) === JSON.stringify(["availability", "condition", "product"]),
    `inventory item: top-level fields ${keysOf(body)}`
  )
  const b = body as Json
  check(JSON.stringify(keysOf(b.availability)) === "[\"shipToLocationAvailability\"]", "availability fields")
  check(JSON.stringify(keysOf(b.availability.shipToLocationAvailability)) === "[\"quantity\"]", "shipToLocationAvailability fields")
  check(isCount(b.availability.shipToLocationAvailability.quantity), "quantity must be an integer ≥ 0")
  check(conditions.has(b.condition), `condition ${b.condition} is not a ConditionEnum value`)
  const p = b.product
  check(isObject(p), "product is not an object")
  for (const k of keysOf(p)) check(["title", "description", "imageUrls", "aspects", "brand"].includes(k), `product.${k}`)
  check(typeof p.title === "string" && p.title.length > 0, "product.title")
  check(typeof p.description === "string", "product.description must be sent (full replace)")
  check(Array.isArray(p.imageUrls) && p.imageUrls.every((u: unknown) => typeof u === "string"), "product.imageUrls")
  check(isObject(p.aspects), "product.aspects must be sent (full replace)")
  for (const [name, values] of Object.entries(p.aspects as Json)) {
    check(Array.isArray(values) && values.every((v) => typeof v === "string"), `aspect ${name} must be an array of strings`)
  }
}

/** `BulkPriceQuantity`. */
export const checkBulk = (state: EbayState, body: unknown) => {
  check(isObject(body) && JSON.stringify(keysOf(body)) === "[\"requests\"]", "bulk: body must be {requests}")
  const requests = (body as Json).requests
  check(Array.isArray(requests) && requests.length >= 1 && requests.length <= 25, "bulk: 1 to 25 requests")
  for (const r of requests as Array<Json>) {
    for (const k of keysOf(r)) check(["sku", "shipToLocationAvailability", "offers"].includes(k), `bulk: request.${k}`)
    check(typeof r.sku === "string" && r.sku.length <= 50, "bulk: sku")
    if (r.shipToLocationAvailability !== undefined) {
      check(JSON.stringify(keysOf(r.shipToLocationAvailability)) === "[\"quantity\"]", "bulk: shipToLocationAvailability")
      check(isCount(r.shipToLocationAvailability.quantity), "bulk: shipToLocationAvailability.quantity")
    }
    if (r.offers !== undefined) {
      check(Array.isArray(r.offers) && r.offers.length > 0, "bulk: offers must be a non-empty array when sent")
      for (const o of r.offers as Array<Json>) {
        for (const k of keysOf(o)) check(["offerId", "availableQuantity", "price"].includes(k), `bulk: offer.${k}`)
        const known = state.offers.get(r.sku) ?? []
        check(known.some((k) => k.offerId === o.offerId), `bulk: offer ${o.offerId} is not an offer of ${r.sku}`)
        if (o.availableQuantity !== undefined) check(isCount(o.availableQuantity), "bulk: availableQuantity")
        if (o.price !== undefined) {
          check(JSON.stringify(keysOf(o.price)) === "[\"currency\",\"value\"]", "bulk: price fields")
          check(typeof o.price.value === "string" && /^\d+\.\d{2}$/.test(o.price.value), "bulk: price.value is a decimal string")
          check(/^[A-Z]{3}$/.test(o.price.currency), "bulk: price.currency")
        }
      }
    }
    check(r.shipToLocationAvailability !== undefined || r.offers !== undefined, "bulk: a request with nothing to update")
  }
  return requests as Array<Json>
}

export const ordersQuery = /^filter=lastmodifieddate:%5B(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\.\.%5D&limit=(\d+)&offset=(\d+)$/

export const ebayHandler = (state: EbayState, baseUrl: () => string) => (req: FakeRequest): FakeResponse => {
  const scripted = state.script.findIndex((s) => s.match(req))
  if (scripted >= 0) return state.script.splice(scripted, 1)[0]!.response

  if (req.path === TOKEN_PATH) {
    check(req.method === "POST", "token: POST")
    const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`
    check(req.headers.authorization === basic, "token: Authorization must be Basic base64(client_id:client_secret)")
    check(req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded"), "token: form content type")
    check(JSON.stringify([...req.form.keys()].sort()) === "[\"grant_type\",\"refresh_token\",\"scope\"]", "token: form fields")
    check(req.form.get("grant_type") === "refresh_token", "token: grant_type")
    check(req.form.get("refresh_token") === REFRESH_TOKEN, "token: refresh_token")
    check(req.form.get("scope") === defaultEbayScopes.join(" "), "token: scope")
    const token = `access-${++state.tokensIssued}`
    state.validTokens.add(token)
    return json(200, { access_token: token, expires_in: state.expiresIn, token_type: "User Access Token" })
  }

  const auth = req.headers.authorization ?? ""
  check(auth.startsWith("Bearer "), `${req.method} ${req.path}: Authorization must be Bearer`)
  const bearer = auth.slice("Bearer ".length)
  state.bearers.push(bearer)
  if (!state.acceptTokens || !state.validTokens.has(bearer)) {
    return json(401, {
      errors: [{
        errorId: 1001,
        domain: "OAuth",
        category: "REQUEST",
        message: "Invalid access token",
        longMessage: "Invalid access token. Check the value of the Authorization HTTP request header."
      }]
    })
  }

  const item = /^\/sell\/inventory\/v1\/inventory_item\/([^/]+)$/.exec(req.path)
  if (item) {
    const sku = decodeURIComponent(item[1]!)
    check(req.url.split("?")[1] === undefined, "inventory_item: no query")
    if (req.method === "PUT") {
      check(req.headers["content-type"] === "application/json", "PUT inventory_item: Content-Type application/json")
      check(req.headers["content-language"] === "en-US", "PUT inventory_item: Content-Language en-US")
      checkInventoryItem(req.json)
      state.items.set(sku, req.json as Json)
      return { status: 204 }
    }
    check(req.method === "GET", `inventory_item: ${req.method}`)
    const stored = state.items.get(sku)
    return stored === undefined
      ? json(404, ebayErrors(25710, "We didn't find the resource/entity you are requesting. Please verify the request"))
      : json(200, { sku, locale: "en_US", ...stored })
  }

  if (req.path === "/sell/inventory/v1/offer") {
    check(req.method === "GET", "offer: GET")
    check(JSON.stringify([...req.query.keys()]) === "[\"sku\"]", `offer: query ${req.url}`)
    const sku = req.query.get("sku")!
    const offers = state.offers.get(sku) ?? []
    if (offers.length === 0) return json(404, ebayErrors(25713, "This Offer is not available."))
    return json(200, { href: `${baseUrl()}${req.url}`, limit: 100, size: offers.length, total: offers.length, offers })
  }

  if (req.path === "/sell/inventory/v1/bulk_update_price_quantity") {
    check(req.method === "POST", "bulk: POST")
    check(req.headers["content-type"] === "application/json", "bulk: Content-Type application/json")
    const responses: Array<Json> = []
    for (const r of checkBulk(state, req.json)) {
      if (r.shipToLocationAvailability !== undefined) {
        const stored = state.items.get(r.sku)
        if (stored !== undefined) stored.availability = { shipToLocationAvailability: r.shipToLocationAvailability }
        else state.items.set(r.sku, { availability: { shipToLocationAvailability: r.shipToLocationAvailability } })
        responses.push({ sku: r.sku, statusCode: 200 })
      }
      for (const o of (r.offers ?? []) as Array<Json>) {
        const failure = state.failOffers.get(o.offerId)
        if (failure !== undefined) {
          responses.push({ offerId: o.offerId, sku: r.sku, statusCode: failure.statusCode, errors: failure.errors })
          continue
        }
        const offer = state.offers.get(r.sku)!.find((k) => k.offerId === o.offerId)!
        if (o.availableQuantity !== undefined) offer.availableQuantity = o.availableQuantity
        if (o.price !== undefined) offer.pricingSummary = { price: o.price }
        responses.push({ offerId: o.offerId, sku: r.sku, statusCode: 200 })
      }
    }
    return json(responses.every((r) => r.statusCode === 200) ? 200 : 207, { responses })
  }

  if (req.path === "/sell/fulfillment/v1/order") {
    check(req.method === "GET", "order: GET")
    const query = req.url.split("?")[1] ?? ""
    const m = ordersQuery.exec(query)
    check(m !== null, `order: query ${query} is not filter=lastmodifieddate:%5B<ISO>..%5D&limit=…&offset=…`)
    const [since, limit, offset] = [Date.parse(m![1]!), Number(m![2]), Number(m![3])]
    check(limit === 50, "order: limit=50")
    const matching = state.orders
      .filter((o) => Date.parse(o.lastModifiedDate) >= since)
      // eBay does not document the order; newest created first here.
      .sort((a, b) => Date.parse(b.creationDate) - Date.parse(a.creationDate))
    const page = matching.slice(offset, offset + limit)
    const href = (at: number) => `${baseUrl()}/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B${m![1]}..%5D&limit=${limit}&offset=${at}`
    return json(200, {
      href: href(offset),
      total: matching.length,
      limit,
      offset,
      orders: page,
      ...(offset + limit < matching.length ? { next: href(offset + limit) } : {}),
      ...(offset > 0 ? { prev: href(Math.max(0, offset - limit)) } : {})
    })
  }

  throw new Error(`unexpected request ${req.method} ${req.url}`)
}

// --- set-up ----------------------------------------------------------------------------

export const fullCredentials = { "api-key": CLIENT_ID, "api-secret": CLIENT_SECRET, "refresh-token": REFRESH_TOKEN }

export const setup = (options: { readonly expiresIn?: number; readonly credentials?: Record<string, string> } = {}) =>
  Effect.gen(function*() {
    const state = newState(options.expiresIn)
    let url = ""
    const server = yield* fakeServer(ebayHandler(state, () => url))
    url = server.url
    const http = yield* makeHttpOutLive({ defaultTimeoutMs: 5_000, defaultMaxBodyBytes: 1 << 20, blockPrivateAddresses: false })
    const settings = yield* Schema.decodeUnknown(ebayAdapter.settings)({
      baseUrl: server.url,
      tokenUrl: `${server.url}${TOKEN_PATH}`
    })
    const context = yield* makeConnectorContext({
      configId: randomUUID(),
      storeId: "store-ebay-1",
      settings,
      credentials: options.credentials ?? fullCredentials
    })
    const handle = (eventType: string, data: Record<string, unknown>) =>
      ebayAdapter.handleEvent(
        context,
        new EventEnvelope({ eventId: randomUUID(), eventType, storeId: "store-ebay-1", occurredAt: new Date().toISOString(), data })
      ).pipe(Effect.provideService(HttpOut, http))
    const poll = (cursor?: string) =>
      ebayAdapter.poll(context, Option.fromNullable(cursor)).pipe(Effect.provideService(HttpOut, http))
    /** One page (what the poller commits at a time). */
    const pollPage = (cursor?: string) =>
      ebayAdapter.pollPage(context, Option.fromNullable(cursor)).pipe(Effect.provideService(HttpOut, http))
    /** method + path of every request, for the sequence assertions. */
    const calls = () => server.requests.map((r) => `${r.method} ${r.path}`)
    return { state, server, handle, poll, pollPage, calls }
  })

export const failure = <A>(effect: Effect.Effect<A, ConnectorError>) => Effect.flip(effect)

export const ITEM = "/sell/inventory/v1/inventory_item"
export const OFFER = "/sell/inventory/v1/offer"
export const BULK = "/sell/inventory/v1/bulk_update_price_quantity"
export const ORDERS = "/sell/fulfillment/v1/order"
