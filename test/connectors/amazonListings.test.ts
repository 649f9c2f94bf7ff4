/**
 * The Amazon connector against a fake SP-API (amazonSpApiFake.ts): settings,
 * listings (product.updated, inventory.updated), the LWA token and credentials.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, Schema, TestClock } from "effect"
import { amazonAdapter } from "../../src/programs/connectors/adapters/amazon/index.ts"
import { credentials, failure, product, setup } from "./amazonHarness.ts"
import { CLIENT_ID, CLIENT_SECRET, MARKETPLACE, REFRESH_TOKEN, SELLER, spError, TOKEN_PATH } from "./amazonSpApiFake.ts"

describe("amazon connector: settings", () => {
  const decode = Schema.decodeUnknownEither(amazonAdapter.settings)

  it("fills the defaults and derives the poll interval", () => {
    const settings = Either.getOrThrow(decode({ sellerId: "A2SELLER1" }))
    expect(settings).toEqual({
      sellerId: "A2SELLER1",
      marketplaceId: "ATVPDKIKX0DER",
      productType: "PRODUCT",
      languageTag: "en_US",
      baseUrl: "https://sellingpartnerapi-na.amazon.com",
      tokenUrl: "https://api.amazon.com/auth/o2/token",
      pollIntervalSeconds: 300
    })
    expect(Duration.toSeconds(Duration.decode(amazonAdapter.pollIntervalOf(settings)))).toBe(300)
    expect(amazonAdapter.connectorType).toBe("amazon")
    expect(amazonAdapter.supportedEvents).toEqual(["product.updated", "inventory.updated", "order.fulfilled"])
    expect(amazonAdapter.credentialKeys).toEqual(["api-key", "api-secret", "refresh-token"])
  })

  it("names the bad field", () => {
    const message = (input: unknown) => {
      const result = decode(input)
      if (Either.isRight(result)) throw new Error("expected a decode error")
      return String(result.left.message)
    }
    expect(message({})).toContain("sellerId")
    expect(message({ sellerId: "A2/../x" })).toContain("sellerId")
    expect(message({ sellerId: "A2SELLER1", pollIntervalSeconds: 30 })).toContain("pollIntervalSeconds")
    expect(message({ sellerId: "A2SELLER1", pollIntervalSeconds: 90.5 })).toContain("pollIntervalSeconds")
    expect(message({ sellerId: "A2SELLER1", baseUrl: "not a url" })).toContain("baseUrl")
    expect(message({ sellerId: "A2SELLER1", tokenUrl: "ftp://x" })).toContain("tokenUrl")
    expect(message({ sellerId: "A2SELLER1", marketplaceId: "" })).toContain("marketplaceId")
  })
})

describe("amazon connector: product.updated", () => {
  it.scopedLive("PUTs the listing with SP-API attributes, with one LWA token reused across calls", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()

      const first = yield* handle("product.updated", {
        ...product({ sku: "SKU 1/é", quantity: 7 }),
        attributes: { bullet_point: [{ value: "Grippy", language_tag: "en_US", marketplace_id: MARKETPLACE }], color: "red" }
      })
      const second = yield* handle("product.updated", product({ sku: "SKU-2", price: undefined, brand: undefined }))

      expect(first).toEqual({ entityType: "listing", recordCount: 1 })
      expect(second).toEqual({ entityType: "listing", recordCount: 1 })
      expect(fake.violations).toEqual([])
      expect(fake.tokenCalls()).toBe(1)

      const token = fake.requests.find((r) => r.path === TOKEN_PATH)!
      expect(Object.fromEntries(new URLSearchParams(token.text))).toEqual({
        grant_type: "refresh_token",
        refresh_token: REFRESH_TOKEN,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET
      })

      const puts = fake.sp("PUT", "/listings/2021-08-01/items/")
      expect(puts.map((p) => p.path)).toEqual([
        `/listings/2021-08-01/items/${SELLER}/SKU%201%2F%C3%A9`,
        `/listings/2021-08-01/items/${SELLER}/SKU-2`
      ])
      expect(puts.every((p) => p.headers["x-amz-access-token"] === "Atza|access-1")).toBe(true)
      expect(puts[0]!.json).toEqual({
        productType: "PRODUCT",
        requirements: "LISTING",
        attributes: {
          bullet_point: [{ value: "Grippy", language_tag: "en_US", marketplace_id: MARKETPLACE }],
          item_name: [{ value: "Trail Runner 2", language_tag: "en_US", marketplace_id: MARKETPLACE }],
          product_description: [{ value: "A light trail shoe.", language_tag: "en_US", marketplace_id: MARKETPLACE }],
          brand: [{ value: "Acme", language_tag: "en_US", marketplace_id: MARKETPLACE }],
          condition_type: [{ value: "new_new", marketplace_id: MARKETPLACE }],
          purchasable_offer: [{
            marketplace_id: MARKETPLACE,
            currency: "USD",
            our_price: [{ schedule: [{ value_with_tax: 89.5 }] }]
          }],
          list_price: [{ value_with_tax: 89.5, currency: "USD", marketplace_id: MARKETPLACE }],
          main_product_image_locator: [{ media_location: "https://img.example/1.jpg", marketplace_id: MARKETPLACE }],
          other_product_image_locator_1: [{ media_location: "https://img.example/2.jpg", marketplace_id: MARKETPLACE }],
          other_product_image_locator_2: [{ media_location: "https://img.example/3.jpg", marketplace_id: MARKETPLACE }],
          fulfillment_availability: [{ fulfillment_channel_code: "DEFAULT", quantity: 7 }]
        }
      })
      const attributes = (puts[1]!.json as { attributes: Record<string, unknown> }).attributes
      expect(Object.keys(attributes)).not.toContain("purchasable_offer")
      expect(Object.keys(attributes)).not.toContain("brand")
    }))

  it.scopedLive("uses the configured marketplace-independent settings (product type, condition)", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup({ settings: { productType: "SHOES", languageTag: "en_GB" } })
      yield* handle("product.updated", product({ condition: "REFURBISHED" }))
      expect(fake.violations).toEqual([])
      const body = fake.sp("PUT", "/listings/")[0]!.json as { productType: string; attributes: Record<string, Array<Record<string, unknown>>> }
      expect(body.productType).toBe("SHOES")
      expect(body.attributes.condition_type).toEqual([{ value: "refurbished_refurbished", marketplace_id: MARKETPLACE }])
      expect(body.attributes.item_name![0]!.language_tag).toBe("en_GB")
    }))

  it.scopedLive("fetches one token for concurrent calls", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      yield* Effect.all(
        Array.from({ length: 5 }, (_, i) => handle("product.updated", product({ sku: `SKU-${i}` }))),
        { concurrency: "unbounded" }
      )
      expect(fake.tokenCalls()).toBe(1)
      expect(fake.sp("PUT", "/listings/")).toHaveLength(5)
      expect(fake.violations).toEqual([])
    }))

  // TestClock: the token cache reads time through Clock; the fake and HttpOut run on real I/O.
  it.scoped("refreshes the token once it is within 60 s of expiring", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.tokenTtl = 61 // usable for 1 s with the 60 s margin
      yield* handle("product.updated", product())
      yield* handle("product.updated", product())
      expect(fake.tokenCalls()).toBe(1)

      // Just short of the second: still the cached token.
      yield* TestClock.adjust("999 millis")
      yield* handle("product.updated", product())
      expect(fake.tokenCalls()).toBe(1)
      yield* TestClock.adjust("1 millis")
      yield* handle("product.updated", product())

      expect(fake.tokenCalls()).toBe(2)
      expect(fake.sp("PUT", "/listings/").map((r) => r.headers["x-amz-access-token"])).toEqual([
        "Atza|access-1",
        "Atza|access-1",
        "Atza|access-1",
        "Atza|access-2"
      ])
      expect(fake.violations).toEqual([])
    }))

  it.scopedLive("after a 401, fetches a new token and retries once", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "PUT",
        answer: spError(401, "Unauthorized", "The request's Authorization header is not formatted correctly or does not contain a valid token.")
      })

      const outcome = yield* handle("product.updated", product())

      expect(outcome.recordCount).toBe(1)
      expect(fake.tokenCalls()).toBe(2)
      expect(fake.sp("PUT", "/listings/").map((r) => r.headers["x-amz-access-token"])).toEqual([
        "Atza|access-1",
        "Atza|access-2"
      ])
    }))

  it.scopedLive("after SP-API's 403 for an expired token, fetches a new token and retries once", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      yield* handle("product.updated", product())
      fake.revoked.add("Atza|access-1")

      yield* handle("product.updated", product())

      expect(fake.tokenCalls()).toBe(2)
      expect(fake.sp("PUT", "/listings/").map((r) => r.headers["x-amz-access-token"])).toEqual([
        "Atza|access-1",
        "Atza|access-1",
        "Atza|access-2"
      ])
    }))

  it.scopedLive("a 401 that survives a fresh token is a rejection", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      const unauthorized = spError(401, "Unauthorized", "Access to requested resource is denied.")
      fake.scripted.push({ match: (r) => r.method === "PUT", answer: unauthorized })
      fake.scripted.push({ match: (r) => r.method === "PUT", answer: unauthorized })

      const error = yield* failure(handle("product.updated", product()))

      expect(error.kind).toBe("Rejected")
      expect(error.retryable).toBe(false)
      expect(error.message).toContain("HTTP 401")
      expect(fake.sp("PUT", "/listings/")).toHaveLength(2)
    }))

  it.scopedLive("a 429 (no Retry-After, as SP-API sends it) is retried after a backoff", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "PUT",
        answer: spError(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
      })

      const outcome = yield* handle("product.updated", product())

      expect(outcome).toEqual({ entityType: "listing", recordCount: 1 })
      expect(fake.sp("PUT", "/listings/")).toHaveLength(2)
      expect(fake.tokenCalls()).toBe(1)
    }))

  it.scopedLive("a 200 INVALID submission is an Invalid failure carrying the issues", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "PUT",
        answer: {
          status: 200,
          body: {
            sku: "SKU-1",
            status: "INVALID",
            submissionId: "f1dc2914-75dd-11ea-bc55-0242ac130003",
            issues: [
              {
                code: "90220",
                message: "'item_type_keyword' is required but not supplied.",
                severity: "ERROR",
                attributeNames: ["item_type_keyword"]
              },
              { code: "18027", message: "Image resolution is low.", severity: "WARNING" }
            ]
          }
        }
      })

      const error = yield* failure(handle("product.updated", product()))

      expect(error.kind).toBe("Invalid")
      expect(error.retryable).toBe(false)
      expect(error.message).toContain("INVALID")
      expect(error.message).toContain("90220: 'item_type_keyword' is required but not supplied.")
      expect(error.message).toContain("item_type_keyword")
      expect(error.message).toContain("18027: Image resolution is low.")
    }))

  it.scopedLive("a 400 is a rejection with Amazon's message", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "PUT",
        answer: spError(400, "BAD_REQUEST", "Invalid input", "sku is too long")
      })

      const error = yield* failure(handle("product.updated", product()))

      expect(error.kind).toBe("Rejected")
      expect(error.message).toBe("putListingsItem: HTTP 400: BAD_REQUEST: Invalid input (sku is too long)")
    }))

  it.scopedLive("a 5xx is a retryable Unavailable", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "PUT",
        answer: spError(503, "ServiceUnavailable", "Temporary overloading or maintenance of the server.")
      })

      const error = yield* failure(handle("product.updated", product()))

      expect(error.kind).toBe("Unavailable")
      expect(error.retryable).toBe(true)
      expect(error.message).toContain("ServiceUnavailable")
    }))

  it.scopedLive("bad event data is Invalid, and nothing is sent", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      const error = yield* failure(handle("product.updated", { sku: "", title: "x" }))
      expect(error.kind).toBe("Invalid")
      expect(error.message).toContain("sku")
      expect(fake.requests).toEqual([])
    }))
})

describe("amazon connector: credentials", () => {
  it.scopedLive("missing credentials are Misconfigured, and nothing is sent", () =>
    Effect.gen(function*() {
      const { fake, handle, poll } = yield* setup({ credentials: { "api-key": CLIENT_ID, "api-secret": CLIENT_SECRET } })

      const error = yield* failure(handle("product.updated", product()))
      expect(error.kind).toBe("Misconfigured")
      expect(error.message).toContain("refresh-token")
      expect(error.retryable).toBe(false)

      const pollError = yield* failure(poll(Option.none()))
      expect(pollError.kind).toBe("Misconfigured")
      expect(fake.requests).toEqual([])
    }))

  it.scopedLive("a refresh token LWA refuses is Misconfigured with LWA's message (and no secret)", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup({ credentials: { ...credentials, "refresh-token": "Atzr|revoked" } })

      const error = yield* failure(handle("product.updated", product()))

      expect(error.kind).toBe("Misconfigured")
      expect(error.message).toContain("invalid_grant")
      expect(error.message).not.toContain("Atzr|revoked")
      expect(error.message).not.toContain(CLIENT_SECRET)
      expect(fake.sp("PUT", "/listings/")).toEqual([])
    }))
})

describe("amazon connector: inventory.updated", () => {
  it.scopedLive("PATCHes fulfillment_availability (and the offer when a price comes along)", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()

      const outcome = yield* handle("inventory.updated", { sku: "SKU-9", quantity: 12 })
      yield* handle("inventory.updated", { sku: "SKU-9", quantity: 0, price: { amount: 10, currency: "USD" } })

      expect(outcome).toEqual({ entityType: "inventory", recordCount: 1 })
      expect(fake.violations).toEqual([])
      const patches = fake.sp("PATCH", "/listings/")
      expect(patches[0]!.path).toBe(`/listings/2021-08-01/items/${SELLER}/SKU-9`)
      expect(patches[0]!.query.get("marketplaceIds")).toBe(MARKETPLACE)
      expect(patches[0]!.json).toEqual({
        productType: "PRODUCT",
        patches: [{
          op: "replace",
          path: "/attributes/fulfillment_availability",
          value: [{ fulfillment_channel_code: "DEFAULT", quantity: 12 }]
        }]
      })
      expect((patches[1]!.json as { patches: Array<unknown> }).patches).toEqual([
        {
          op: "replace",
          path: "/attributes/fulfillment_availability",
          value: [{ fulfillment_channel_code: "DEFAULT", quantity: 0 }]
        },
        {
          op: "replace",
          path: "/attributes/purchasable_offer",
          value: [{ marketplace_id: MARKETPLACE, currency: "USD", our_price: [{ schedule: [{ value_with_tax: 10 }] }] }]
        }
      ])
    }))

  it.scopedLive("an INVALID patch is Invalid", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "PATCH",
        answer: {
          status: 200,
          body: {
            sku: "SKU-9",
            status: "INVALID",
            submissionId: "x",
            issues: [{ code: "4000001", message: "The SKU does not exist.", severity: "ERROR" }]
          }
        }
      })
      const error = yield* failure(handle("inventory.updated", { sku: "SKU-9", quantity: 1 }))
      expect(error.kind).toBe("Invalid")
      expect(error.message).toContain("4000001: The SKU does not exist.")
    }))
})

