/**
 * The eBay connector against a local fake eBay (test/connectors/fakeServer.ts):
 * the fake checks every request against eBay's published shapes (method, path,
 * query, headers, body) and answers as eBay does, with scripted failures.
 * Real HTTP through `makeHttpOutLive`, the live clock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import type { ConnectorError } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { defaultEbayScopes, ebayAdapter } from "../../src/programs/connectors/adapters/ebay/index.ts"
import { makeConnectorContext } from "../../src/programs/connectors/context.ts"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { makeHttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"
import { type FakeRequest, type FakeResponse, fakeServer, json } from "./fakeServer.ts"

const CLIENT_ID = "ShopSTAR-client-PRD-1234"
const CLIENT_SECRET = "PRD-secret-5678"
const REFRESH_TOKEN = "v^1.1#i^1#refresh-token-9012"
const TOKEN_PATH = "/identity/v1/oauth2/token"

// --- the fake eBay ----------------------------------------------------------------

type Json = Record<string, any>

interface EbayState {
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

const newState = (expiresIn = 7200): EbayState => ({
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

const check = (condition: unknown, message: string): void => {
  if (!condition) throw new Error(message)
}
const keysOf = (u: unknown) => (typeof u === "object" && u !== null ? Object.keys(u).sort() : [])
const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const isCount = (u: unknown) => typeof u === "number" && Number.isInteger(u) && u >= 0

const ebayErrors = (errorId: number, message: string, longMessage?: string) => ({
  errors: [{
    errorId,
    domain: "API_INVENTORY",
    category: "REQUEST",
    message,
    ...(longMessage !== undefined ? { longMessage } : {})
  }]
})

const conditions = new Set(["NEW", "USED_EXCELLENT", "SELLER_REFURBISHED"])

/** `InventoryItem` as createOrReplaceInventoryItem takes it (the fields this connector sends). */
const checkInventoryItem = (body: unknown) => {
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
const checkBulk = (state: EbayState, body: unknown) => {
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

const ordersQuery = /^filter=lastmodifieddate:%5B(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\.\.%5D&limit=(\d+)&offset=(\d+)$/

const ebayHandler = (state: EbayState, baseUrl: () => string) => (req: FakeRequest): FakeResponse => {
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

const fullCredentials = { "api-key": CLIENT_ID, "api-secret": CLIENT_SECRET, "refresh-token": REFRESH_TOKEN }

const setup = (options: { readonly expiresIn?: number; readonly credentials?: Record<string, string> } = {}) =>
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
    /** method + path of every request, for the sequence assertions. */
    const calls = () => server.requests.map((r) => `${r.method} ${r.path}`)
    return { state, server, handle, poll, calls }
  })

const failure = <A>(effect: Effect.Effect<A, ConnectorError>) => Effect.flip(effect)

const ITEM = "/sell/inventory/v1/inventory_item"
const OFFER = "/sell/inventory/v1/offer"
const BULK = "/sell/inventory/v1/bulk_update_price_quantity"
const ORDERS = "/sell/fulfillment/v1/order"

// --- settings ------------------------------------------------------------------------------

describe("ebay settings", () => {
  const decode = Schema.decodeUnknownEither(ebayAdapter.settings)

  it("defaults, and the bounds of pollIntervalSeconds", () => {
    const settings = Schema.decodeUnknownSync(ebayAdapter.settings)({})
    expect(settings).toEqual({
      baseUrl: "https://api.ebay.com",
      tokenUrl: "https://api.ebay.com/identity/v1/oauth2/token",
      marketplaceId: "EBAY_US",
      contentLanguage: "en-US",
      currency: "USD",
      scopes: [
        "https://api.ebay.com/oauth/api_scope/sell.inventory",
        "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
      ],
      pollIntervalSeconds: 300
    })
    expect(Duration.toSeconds(Duration.decode(ebayAdapter.pollIntervalOf(settings)))).toBe(300)
    expect(Either.isRight(decode({ pollIntervalSeconds: 60 }))).toBe(true)
    expect(Either.isRight(decode({ pollIntervalSeconds: 86_400 }))).toBe(true)
    for (const bad of [59, 86_401, 120.5, "300"]) expect(Either.isLeft(decode({ pollIntervalSeconds: bad }))).toBe(true)
    expect(Either.isLeft(decode({ baseUrl: "ftp://api.ebay.com" }))).toBe(true)
    expect(Either.isLeft(decode({ marketplaceId: "US" }))).toBe(true)
    expect(Either.isLeft(decode({ contentLanguage: "en_US" }))).toBe(true)
    expect(Either.isLeft(decode({ scopes: [] }))).toBe(true)
    expect(ebayAdapter.connectorType).toBe("ebay")
    expect(ebayAdapter.supportedEvents).toEqual(["product.updated", "inventory.updated"])
    expect(ebayAdapter.credentialKeys).toEqual(["api-key", "api-secret", "refresh-token"])
  })
})

// --- OAuth ----------------------------------------------------------------------------------

describe("ebay OAuth", () => {
  const product = (sku: string) => ({ sku, title: "Widget", quantity: 1 })

  it.scopedLive("the refresh-token grant (Basic client credentials) runs once; its token is reused as Bearer", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      yield* handle("product.updated", product("SKU-A"))
      yield* handle("product.updated", product("SKU-B"))
      expect(calls()).toEqual([`POST ${TOKEN_PATH}`, `PUT ${ITEM}/SKU-A`, `PUT ${ITEM}/SKU-B`])
      expect(state.tokensIssued).toBe(1)
      expect(state.bearers).toEqual(["access-1", "access-1"])
      const tokenCall = server.requests[0]!
      expect(Object.fromEntries(tokenCall.form)).toEqual({
        grant_type: "refresh_token",
        refresh_token: REFRESH_TOKEN,
        scope: "https://api.ebay.com/oauth/api_scope/sell.inventory https://api.ebay.com/oauth/api_scope/sell.fulfillment"
      })
      expect(tokenCall.headers.authorization).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`)
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("a token is fetched again once it has (nearly) expired", () =>
    Effect.gen(function*() {
      // expires_in 61 s: the cache keeps it 1 s (it refreshes 60 s before expiry).
      const { state, server, handle } = yield* setup({ expiresIn: 61 })
      yield* handle("product.updated", product("SKU-A"))
      yield* handle("product.updated", product("SKU-B"))
      expect(state.tokensIssued).toBe(1)
      yield* Effect.sleep("1100 millis")
      yield* handle("product.updated", product("SKU-C"))
      expect(state.tokensIssued).toBe(2)
      expect(state.bearers).toEqual(["access-1", "access-1", "access-2"])
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("a 401 invalidates the token: one fresh token, the call retried once", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      yield* handle("product.updated", product("SKU-A"))
      state.validTokens.clear() // revoked on eBay's side
      const outcome = yield* handle("product.updated", product("SKU-B"))
      expect(outcome).toEqual({ entityType: "listing", recordCount: 1 })
      expect(calls()).toEqual([
        `POST ${TOKEN_PATH}`,
        `PUT ${ITEM}/SKU-A`,
        `PUT ${ITEM}/SKU-B`,
        `POST ${TOKEN_PATH}`,
        `PUT ${ITEM}/SKU-B`
      ])
      expect(state.bearers).toEqual(["access-1", "access-1", "access-2"])
      expect(state.items.has("SKU-B")).toBe(true)
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("a 401 that survives a fresh token is Rejected with eBay's message", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      state.acceptTokens = false
      const error = yield* failure(handle("product.updated", product("SKU-A")))
      expect(error.kind).toBe("Rejected")
      expect(error.retryable).toBe(false)
      expect(error.message).toContain("createOrReplaceInventoryItem: HTTP 401: 1001 Invalid access token")
      expect(calls()).toEqual([`POST ${TOKEN_PATH}`, `PUT ${ITEM}/SKU-A`, `POST ${TOKEN_PATH}`, `PUT ${ITEM}/SKU-A`])
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("the token endpoint refusing the refresh token is Misconfigured, without echoing secrets", () =>
    Effect.gen(function*() {
      const { state, server, handle, poll } = yield* setup()
      const refusal = json(400, {
        error: "invalid_grant",
        error_description: "the provided authorization refresh token is invalid or was issued to another client"
      })
      state.script.push({ match: (r) => r.path === TOKEN_PATH, response: refusal })
      const error = yield* failure(handle("product.updated", product("SKU-A")))
      expect(error.kind).toBe("Misconfigured")
      expect(error.message).toBe(
        "oauth2.token: HTTP 400: invalid_grant: the provided authorization refresh token is invalid or was issued to another client"
      )
      state.script.push({ match: (r) => r.path === TOKEN_PATH, response: refusal })
      const pollError = yield* failure(poll())
      expect(pollError.kind).toBe("Misconfigured")
      for (const e of [error, pollError]) {
        for (const secret of [CLIENT_SECRET, REFRESH_TOKEN]) expect(e.message).not.toContain(secret)
      }
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("missing credentials are Misconfigured before any request", () =>
    Effect.gen(function*() {
      for (const missing of ["api-key", "api-secret", "refresh-token"]) {
        const credentials: Record<string, string> = { ...fullCredentials }
        delete credentials[missing]
        const { server, handle, poll } = yield* setup({ credentials })
        const runs: ReadonlyArray<Effect.Effect<unknown, ConnectorError>> = [
          handle("product.updated", product("SKU-A")),
          handle("inventory.updated", { sku: "SKU-A", quantity: 1 }),
          poll()
        ]
        for (const run of runs) {
          const error = yield* failure(run)
          expect(error.kind).toBe("Misconfigured")
          expect(error.message).toContain(`credential ${missing} is not set`)
        }
        expect(server.requests).toEqual([])
      }
    }))
})

// --- product.updated -------------------------------------------------------------------------

describe("ebay product.updated", () => {
  it.scopedLive("a full replace: every field, every time (Content-Language, JSON, Bearer)", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      const outcome = yield* handle("product.updated", {
        sku: "SKU 1/é",
        title: "Acme Widget",
        description: "<p>A widget.</p>",
        quantity: 7,
        imageUrls: ["https://img.example/1.jpg", "https://img.example/2.jpg"],
        condition: "USED",
        brand: "Acme",
        link: "https://shop.example/widget",
        attributes: { Color: "Red", Size: ["S", "M"], Weight: 1.5, Fragile: false, dimensions: { w: 1 }, mixed: ["a", {}] }
      })
      expect(outcome).toEqual({ entityType: "listing", recordCount: 1 })
      // The second update omits description and images: the replace clears them on eBay.
      yield* handle("product.updated", { sku: "SKU 1/é", title: "Acme Widget v2", quantity: 0 })

      expect(calls()).toEqual([`POST ${TOKEN_PATH}`, `PUT ${ITEM}/SKU%201%2F%C3%A9`, `PUT ${ITEM}/SKU%201%2F%C3%A9`])
      const [first, second] = [server.requests[1]!, server.requests[2]!]
      for (const put of [first, second]) {
        expect(put.headers["content-type"]).toBe("application/json")
        expect(put.headers["content-language"]).toBe("en-US")
        expect(put.headers.authorization).toBe("Bearer access-1")
      }
      expect(first.json).toEqual({
        availability: { shipToLocationAvailability: { quantity: 7 } },
        condition: "USED_EXCELLENT",
        product: {
          title: "Acme Widget",
          description: "<p>A widget.</p>",
          imageUrls: ["https://img.example/1.jpg", "https://img.example/2.jpg"],
          aspects: { Color: ["Red"], Size: ["S", "M"], Weight: ["1.5"], Fragile: ["false"], Brand: ["Acme"] },
          brand: "Acme"
        }
      })
      expect(second.json).toEqual({
        availability: { shipToLocationAvailability: { quantity: 0 } },
        condition: "NEW",
        product: { title: "Acme Widget v2", description: "", imageUrls: [], aspects: {} }
      })
      expect(state.items.get("SKU 1/é")).toEqual(second.json)
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("without a quantity, eBay's current quantity is read first and kept (0 for a new item)", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      state.items.set("SKU-2", {
        availability: { shipToLocationAvailability: { quantity: 12 } },
        condition: "NEW",
        product: { title: "Old", description: "", imageUrls: [], aspects: {} }
      })
      yield* handle("product.updated", { sku: "SKU-2", title: "New title" })
      yield* handle("product.updated", { sku: "SKU-3", title: "Brand new" })
      expect(calls()).toEqual([
        `POST ${TOKEN_PATH}`,
        `GET ${ITEM}/SKU-2`,
        `PUT ${ITEM}/SKU-2`,
        `GET ${ITEM}/SKU-3`,
        `PUT ${ITEM}/SKU-3`
      ])
      expect(state.items.get("SKU-2")!.availability).toEqual({ shipToLocationAvailability: { quantity: 12 } })
      expect(state.items.get("SKU-2")!.product.title).toBe("New title")
      expect(state.items.get("SKU-3")!.availability).toEqual({ shipToLocationAvailability: { quantity: 0 } })
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("with a price: the published fixed-price offers are repriced; no offer is not a failure", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      state.offers.set("SKU-4", [
        { offerId: "O-1", sku: "SKU-4", marketplaceId: "EBAY_US", format: "FIXED_PRICE", status: "PUBLISHED", availableQuantity: 2 },
        { offerId: "O-2", sku: "SKU-4", marketplaceId: "EBAY_US", format: "FIXED_PRICE", status: "UNPUBLISHED" },
        { offerId: "O-3", sku: "SKU-4", marketplaceId: "EBAY_US", format: "AUCTION", status: "PUBLISHED" }
      ])
      const outcome = yield* handle("product.updated", {
        sku: "SKU-4",
        title: "Priced",
        quantity: 5,
        price: { amount: 19.9, currency: "USD" }
      })
      expect(outcome).toEqual({ entityType: "listing", recordCount: 1 })
      expect(calls()).toEqual([`POST ${TOKEN_PATH}`, `PUT ${ITEM}/SKU-4`, `GET ${OFFER}`, `POST ${BULK}`])
      expect(server.requests[2]!.url).toBe(`${OFFER}?sku=SKU-4`)
      expect(server.requests[3]!.json).toEqual({
        requests: [{ sku: "SKU-4", offers: [{ offerId: "O-1", availableQuantity: 5, price: { value: "19.90", currency: "USD" } }] }]
      })
      expect(state.offers.get("SKU-4")![0]!.pricingSummary).toEqual({ price: { value: "19.90", currency: "USD" } })

      // No offer for the SKU (eBay: 404 errorId 25713): the item is still the run's one record.
      const noOffer = yield* handle("product.updated", { sku: "SKU-5", title: "Unlisted", quantity: 1, price: { amount: 5, currency: "USD" } })
      expect(noOffer).toEqual({ entityType: "listing", recordCount: 1 })
      expect(calls().slice(4)).toEqual([`PUT ${ITEM}/SKU-5`, `GET ${OFFER}`])
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("a 429 is waited out (Retry-After) and the call repeated", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      state.script.push({
        match: (r) => r.method === "PUT",
        response: json(429, ebayErrors(2001, "Too many requests. The request limit has been reached for the resource."), {
          "retry-after": "0"
        })
      })
      const outcome = yield* handle("product.updated", { sku: "SKU-T", title: "Throttled", quantity: 1 })
      expect(outcome).toEqual({ entityType: "listing", recordCount: 1 })
      expect(calls()).toEqual([`POST ${TOKEN_PATH}`, `PUT ${ITEM}/SKU-T`, `PUT ${ITEM}/SKU-T`])
      expect(state.items.has("SKU-T")).toBe(true)
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("a 400 with eBay's errors is Rejected carrying eBay's message, and not repeated", () =>
    Effect.gen(function*() {
      const { state, server, handle, calls } = yield* setup()
      state.script.push({
        match: (r) => r.method === "PUT",
        response: json(
          400,
          ebayErrors(25002, "A user error has occurred. The title is too long.", "The title may be at most 80 characters.")
        )
      })
      const error = yield* failure(handle("product.updated", { sku: "SKU-X", title: "x".repeat(81), quantity: 1 }))
      expect(error.kind).toBe("Rejected")
      expect(error.retryable).toBe(false)
      expect(error.message).toBe(
        "createOrReplaceInventoryItem: HTTP 400: 25002 A user error has occurred. The title is too long. (The title may be at most 80 characters.)"
      )
      expect(calls()).toEqual([`POST ${TOKEN_PATH}`, `PUT ${ITEM}/SKU-X`])

      // A 5xx is Unavailable: retried later by the delivery machinery.
      state.script.push({ match: (r) => r.method === "PUT", response: json(503, ebayErrors(2003, "Internal error")) })
      const unavailable = yield* failure(handle("product.updated", { sku: "SKU-X", title: "x", quantity: 1 }))
      expect(unavailable.kind).toBe("Unavailable")
      expect(unavailable.retryable).toBe(true)
      expect(server.errors).toEqual([])
    }))

  it.scopedLive("refused before any request: a SKU over 50 characters, a foreign currency, malformed data", () =>
    Effect.gen(function*() {
      const { server, handle } = yield* setup()
      const long = yield* failure(handle("product.updated", { sku: "S".repeat(51), title: "Too long", quantity: 1 }))
      expect(long.kind).toBe("Invalid")
      expect(long.message).toContain("at most 50 characters")
      const euro = yield* failure(
        handle("product.updated", { sku: "SKU-E", title: "Euro", quantity: 1, price: { amount: 3, currency: "EUR" } })
      )
      expect(euro.kind).toBe("Invalid")
      expect(euro.message).toContain("EUR")
      const malformed = yield* failure(handle("product.updated", { sku: "SKU-M" }))
      expect(malformed.kind).toBe("Invalid")
      expect(malformed.message).toContain("title")
      const stock = yield* failure(handle("inventory.updated", { sku: "S".repeat(51), quantity: 1 }))
      expect(stock.kind).toBe("Invalid")
      expect(yield* handle("order.fulfilled", { orderId: "x" })).toEqual({ entityType: "none", recordCount: 0 })
      expect(server.requests).toEqual([])
    }))
})

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
