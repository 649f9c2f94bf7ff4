/**
 * The eBay connector against a fake eBay (ebayFake.ts): settings, OAuth and
 * product.updated.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Schema, TestClock } from "effect"
import type { ConnectorError } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { ebayAdapter } from "../../src/programs/connectors/adapters/ebay/index.ts"
import { json } from "./fakeServer.ts"
import {
  BULK,
  CLIENT_ID,
  CLIENT_SECRET,
  ebayErrors,
  failure,
  fullCredentials,
  ITEM,
  OFFER,
  REFRESH_TOKEN,
  setup,
  TOKEN_PATH
} from "./ebayFake.ts"

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

  // TestClock: the token cache reads time through Clock; the fake and HttpOut run on real I/O.
  it.scoped("a token is fetched again once it has (nearly) expired", () =>
    Effect.gen(function*() {
      // expires_in 61 s: the cache keeps it 1 s (it refreshes 60 s before expiry).
      const { state, server, handle } = yield* setup({ expiresIn: 61 })
      yield* handle("product.updated", product("SKU-A"))
      yield* handle("product.updated", product("SKU-B"))
      expect(state.tokensIssued).toBe(1)
      // Just short of the second: still the cached token.
      yield* TestClock.adjust("999 millis")
      yield* handle("product.updated", product("SKU-B2"))
      expect(state.tokensIssued).toBe(1)
      yield* TestClock.adjust("1 millis")
      yield* handle("product.updated", product("SKU-C"))
      expect(state.tokensIssued).toBe(2)
      expect(state.bearers).toEqual(["access-1", "access-1", "access-1", "access-2"])
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
