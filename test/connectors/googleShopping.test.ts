/**
 * The Google Shopping (Merchant API v1) connector against a fake Google: a
 * token endpoint that verifies the service account's RS256 JWT with the public
 * key, and the productInputs:insert / products.list endpoints, on 127.0.0.1.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, Schema, TestClock } from "effect"
import * as nodeCrypto from "node:crypto"
import {
  GoogleSettings,
  googleShoppingAdapter,
  makeGoogleShoppingAdapter
} from "../../src/programs/connectors/adapters/google-shopping/index.ts"
import { json } from "./fakeServer.ts"
import {
  account,
  clientEmail,
  contextFor,
  dataSource,
  failure,
  fakeGoogle,
  keyPair,
  listedProduct,
  productUpdated,
  run,
  serviceAccountKey,
  widget
} from "./googleFake.ts"

describe("google-shopping connector", () => {
  it("validates its settings: required ids, defaults, poll interval bounds", () => {
    const decode = Schema.decodeUnknownEither(GoogleSettings)
    const settings = Schema.decodeUnknownSync(GoogleSettings)({ accountId: "123", dataSourceId: "456" })
    expect(settings).toEqual({
      accountId: "123",
      dataSourceId: "456",
      baseUrl: "https://merchantapi.googleapis.com",
      tokenUrl: "https://oauth2.googleapis.com/token",
      contentLanguage: "en",
      feedLabel: "US",
      pollIntervalSeconds: 300
    })
    expect(Duration.toMillis(Duration.decode(googleShoppingAdapter.pollIntervalOf(settings)))).toBe(300_000)
    expect(Either.isLeft(decode({ dataSourceId: "456" }))).toBe(true)
    expect(Either.isLeft(decode({ accountId: "123" }))).toBe(true)
    expect(Either.isLeft(decode({ accountId: "acct-123", dataSourceId: "456" }))).toBe(true)
    expect(Either.isLeft(decode({ accountId: "123", dataSourceId: "456", pollIntervalSeconds: 59 }))).toBe(true)
    expect(Either.isLeft(decode({ accountId: "123", dataSourceId: "456", pollIntervalSeconds: 86_401 }))).toBe(true)
    expect(Either.isLeft(decode({ accountId: "123", dataSourceId: "456", baseUrl: "not a url" }))).toBe(true)
    expect(Either.isRight(decode({ accountId: "123", dataSourceId: "456", pollIntervalSeconds: 86_400 }))).toBe(true)
    expect(googleShoppingAdapter.connectorType).toBe("google-shopping")
    expect(googleShoppingAdapter.supportedEvents).toEqual(["product.updated"])
    expect(googleShoppingAdapter.credentialKeys).toEqual(["api-key", "api-secret"])
  })

  it.scopedLive("product.updated inserts the product input, with a verified service-account token cached and reused", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)

      const first = yield* run(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))
      const second = yield* run(
        googleShoppingAdapter.handleEvent(
          context,
          productUpdated({ sku: "sku-2", title: "Red widget", quantity: 0, condition: "USED" })
        )
      )

      expect(google.server.errors).toEqual([])
      expect(first).toEqual({ entityType: "product", recordCount: 1 })
      expect(second).toEqual({ entityType: "product", recordCount: 1 })
      expect(google.tokenCalls()).toHaveLength(1)
      const inserts = google.insertCalls()
      expect(inserts).toHaveLength(2)
      for (const insert of inserts) {
        expect(insert.headers.authorization).toBe("Bearer ya29.fake-1")
        expect(insert.query.get("dataSource")).toBe(dataSource)
      }
      expect(inserts[0]!.json).toEqual({
        offerId: "sku-1",
        contentLanguage: "en",
        feedLabel: "US",
        productAttributes: {
          title: "Blue widget",
          description: "A widget, blue",
          link: "https://shop.example/p/sku-1",
          imageLink: "https://shop.example/img/1.jpg",
          additionalImageLinks: ["https://shop.example/img/2.jpg", "https://shop.example/img/3.jpg"],
          availability: "IN_STOCK",
          condition: "NEW",
          price: { amountMicros: "33450000", currencyCode: "USD" },
          brand: "Acme"
        }
      })
      expect(inserts[1]!.json).toEqual({
        offerId: "sku-2",
        contentLanguage: "en",
        feedLabel: "US",
        productAttributes: { title: "Red widget", availability: "OUT_OF_STOCK", condition: "USED" }
      })
    }))

  // TestClock: the token cache reads time through Clock; the fake and HttpOut run on real I/O.
  it.scoped("a token is fetched again once it expires", () =>
    Effect.gen(function*() {
      // The fake checks the JWT's iat against the wall clock: start the TestClock there
      // (before anything starts a timer, so setTime replays none).
      yield* TestClock.setTime(Date.now())
      const google = yield* fakeGoogle
      // The cache refreshes 60 s before expiry: 61 s of life is 1 s in the cache.
      google.state.expiresIn = 61
      const context = yield* contextFor(google.settings)
      const send = run(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))

      yield* send
      yield* send
      expect(google.tokenCalls()).toHaveLength(1)
      // Just short of the second: still the cached token.
      yield* TestClock.adjust("999 millis")
      yield* send
      expect(google.tokenCalls()).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* send

      expect(google.server.errors).toEqual([])
      expect(google.tokenCalls()).toHaveLength(2)
      expect(google.insertCalls().map((r) => r.headers.authorization)).toEqual([
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-2"
      ])
    }))

  it.scopedLive("a 401 fetches a new token once and repeats the call; a second 401 is Misconfigured", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      yield* run(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))

      google.state.revoked.add("ya29.fake-1")
      const outcome = yield* run(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))
      expect(outcome.recordCount).toBe(1)
      expect(google.tokenCalls()).toHaveLength(2)
      expect(google.insertCalls().map((r) => r.headers.authorization)).toEqual([
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-2"
      ])

      // Refused whatever the token: one refresh, no loop.
      google.state.revokeAll = true
      const error = yield* failure(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))
      expect(error.kind).toBe("Misconfigured")
      expect(error.message).toContain("UNAUTHENTICATED")
      expect(error.retryable).toBe(false)
      expect(google.tokenCalls()).toHaveLength(3)
      expect(google.insertCalls()).toHaveLength(5)
      expect(google.server.errors).toEqual([])
    }))

  it.scopedLive("quota errors (429 RESOURCE_EXHAUSTED, quota/… reasons) are waited out and the call repeated", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      google.state.insertScript.push(
        json(429, {
          error: {
            code: 429,
            message: "Quota exceeded for quota metric 'Product inserts' (quota/request_rate_too_high).",
            status: "RESOURCE_EXHAUSTED"
          }
        }, { "retry-after": "0" }),
        // Not a 429, but named a quota error: the `isThrottled` hook.
        json(403, {
          error: {
            code: 403,
            message: "Daily quota exhausted.",
            status: "PERMISSION_DENIED",
            errors: [{ domain: "global", reason: "quota/daily_limit_exceeded", message: "Daily quota exhausted." }]
          }
        }, { "retry-after": "0" })
      )

      const outcome = yield* run(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))

      expect(outcome.recordCount).toBe(1)
      expect(google.insertCalls()).toHaveLength(3)
      expect(google.server.errors).toEqual([])
    }))

  it.scopedLive("throttling that outlasts the in-run retries is a retryable Throttled failure", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      const quota = json(429, {
        error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" }
      }, { "retry-after": "0" })
      google.state.insertScript.push(quota, quota, quota, quota, quota, quota)

      const error = yield* failure(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))

      expect(error.kind).toBe("Throttled")
      expect(error.retryable).toBe(true)
      expect(error.message).toContain("RESOURCE_EXHAUSTED")
      expect(google.insertCalls()).toHaveLength(5)
    }), { timeout: 30_000 })

  it.scopedLive("a 400 is Rejected with Google's message and not repeated; a 5xx is Unavailable", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      google.state.insertScript.push(json(400, {
        error: {
          code: 400,
          message: "[productAttributes.price] Invalid price: the currency does not match the feed's country.",
          status: "INVALID_ARGUMENT"
        }
      }))

      const rejected = yield* failure(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))
      expect(rejected.kind).toBe("Rejected")
      expect(rejected.retryable).toBe(false)
      expect(rejected.message).toContain("HTTP 400")
      expect(rejected.message).toContain(
        "INVALID_ARGUMENT: [productAttributes.price] Invalid price: the currency does not match the feed's country."
      )
      expect(google.insertCalls()).toHaveLength(1)

      google.state.insertScript.push(json(503, { error: { code: 503, message: "The service is currently unavailable.", status: "UNAVAILABLE" } }))
      const unavailable = yield* failure(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))
      expect(unavailable.kind).toBe("Unavailable")
      expect(unavailable.retryable).toBe(true)
      expect(unavailable.message).toContain("The service is currently unavailable.")
    }))

  it.scopedLive("a token request Google refuses (invalid_grant) is Misconfigured with Google's reason", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      // A key that is not the service account's: the signature does not verify.
      const context = yield* contextFor(google.settings, { "api-key": clientEmail, "api-secret": keyPair().privateKey })

      const error = yield* failure(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))

      expect(error.kind).toBe("Misconfigured")
      expect(error.message).toContain("invalid_grant: Invalid JWT Signature.")
      expect(google.tokenCalls()).toHaveLength(1)
      expect(google.insertCalls()).toHaveLength(0)
    }))

  it.scopedLive("missing or unusable credentials are Misconfigured, nothing is sent, the key is never quoted", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const attempt = (creds: Record<string, string>) =>
        Effect.flatMap(contextFor(google.settings, creds), (context) =>
          failure(googleShoppingAdapter.handleEvent(context, productUpdated(widget))))

      const noKey = yield* attempt({ "api-secret": serviceAccountKey.privateKey })
      expect(noKey.kind).toBe("Misconfigured")
      expect(noKey.message).toContain("api-key")

      const noSecret = yield* attempt({ "api-key": clientEmail })
      expect(noSecret.kind).toBe("Misconfigured")
      expect(noSecret.message).toContain("api-secret")

      const garbage = "-----BEGIN PRIVATE KEY-----\nTk9UQUtFWQ==\n-----END PRIVATE KEY-----"
      const notAKey = yield* attempt({ "api-key": clientEmail, "api-secret": garbage })
      expect(notAKey.kind).toBe("Misconfigured")
      expect(notAKey.message).not.toContain("Tk9UQUtFWQ")

      const pkcs1 = nodeCrypto.createPrivateKey(serviceAccountKey.privateKey).export({ type: "pkcs1", format: "pem" }) as string
      const wrongFormat = yield* attempt({ "api-key": clientEmail, "api-secret": pkcs1 })
      expect(wrongFormat.kind).toBe("Misconfigured")
      expect(wrongFormat.message).toContain("PKCS#8")

      const polled = yield* Effect.flatMap(contextFor(google.settings, {}), (context) =>
        Effect.flip(run(googleShoppingAdapter.poll(context, Option.none()))))
      expect(polled.kind).toBe("Misconfigured")

      expect(google.server.requests).toHaveLength(0)
    }))

  it.scopedLive("the key is also accepted with escaped newlines or as the JSON key file", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const escaped = serviceAccountKey.privateKey.replace(/\n/g, "\\n")
      const keyFile = JSON.stringify({ type: "service_account", client_email: clientEmail, private_key: serviceAccountKey.privateKey })
      for (const secret of [escaped, keyFile]) {
        const context = yield* contextFor(google.settings, { "api-key": clientEmail, "api-secret": secret })
        yield* run(googleShoppingAdapter.handleEvent(context, productUpdated(widget)))
      }
      expect(google.server.errors).toEqual([])
      expect(google.tokenCalls()).toHaveLength(2)
      expect(google.insertCalls()).toHaveLength(2)
    }))

  it.scopedLive("event data that does not decode, or another event type, is Invalid", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      const noSku = yield* failure(googleShoppingAdapter.handleEvent(context, productUpdated({ title: "x" })))
      expect(noSku.kind).toBe("Invalid")
      expect(noSku.message).toContain("sku")
      const other = yield* failure(googleShoppingAdapter.handleEvent(context, productUpdated(widget, "order.placed")))
      expect(other.kind).toBe("Invalid")
      expect(google.server.requests).toHaveLength(0)
    }))

  it.scopedLive("poll pages through the products, reports every status first, then only changes", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      google.state.catalog = [
        listedProduct("sku-1"),
        listedProduct("sku-2"),
        listedProduct("sku-3", { pending: ["US"] }),
        listedProduct("sku-4", { approved: ["US"], disapproved: ["CA"] }),
        listedProduct("sku-5", { disapproved: ["US"], issues: [{ code: "missing_gtin", severity: "DISAPPROVED" }] })
      ]

      const first = yield* run(googleShoppingAdapter.poll(context, Option.none()))
      expect(google.server.errors).toEqual([])
      expect(google.listCalls().map((r) => r.query.get("pageToken"))).toEqual([null, "page-2", "page-3"])
      expect(google.listCalls().every((r) => r.headers.authorization === "Bearer ya29.fake-1")).toBe(true)
      expect(first.entityType).toBe("product_status")
      expect(first.records.map((r) => [r.externalOrderId, r.status])).toEqual([
        [`accounts/${account}/products/en~US~sku-1`, "APPROVED"],
        [`accounts/${account}/products/en~US~sku-2`, "APPROVED"],
        [`accounts/${account}/products/en~US~sku-3`, "PENDING"],
        [`accounts/${account}/products/en~US~sku-4`, "PARTIALLY_APPROVED"],
        [`accounts/${account}/products/en~US~sku-5`, "DISAPPROVED"]
      ])
      const sku5 = first.records[4]!
      expect(sku5.raw).toMatchObject({ offerId: "sku-5", feedLabel: "US", change: "INITIAL" })
      expect(sku5.raw.productStatus).toEqual(google.state.catalog[4]!.productStatus)
      expect(Number.isNaN(Date.parse(sku5.updatedAt))).toBe(false)

      // Nothing changed: nothing to report (the whole listing is read again).
      const second = yield* run(googleShoppingAdapter.poll(context, Option.some(first.cursor)))
      expect(second.records).toEqual([])
      expect(google.listCalls()).toHaveLength(6)

      // sku-2 disapproved, sku-3 re-submitted (only its dates move), sku-5 deleted, sku-6 new.
      google.state.catalog = [
        listedProduct("sku-1"),
        listedProduct("sku-2", {
          disapproved: ["US"],
          issues: [{ code: "image_link_broken", severity: "DISAPPROVED", attribute: "image link" }]
        }),
        listedProduct("sku-3", { pending: ["US"], lastUpdateDate: "2026-03-01T00:00:00Z" }),
        listedProduct("sku-4", { approved: ["US"], disapproved: ["CA"] }),
        listedProduct("sku-6", { pending: ["US"] })
      ]
      const third = yield* run(googleShoppingAdapter.poll(context, Option.some(second.cursor)))
      expect(third.records.map((r) => [r.externalOrderId, r.status, r.raw.change])).toEqual([
        [`accounts/${account}/products/en~US~sku-2`, "DISAPPROVED", "CHANGED"],
        [`accounts/${account}/products/en~US~sku-6`, "PENDING", "NEW"],
        [`accounts/${account}/products/en~US~sku-5`, "REMOVED", "REMOVED"]
      ])

      const fourth = yield* run(googleShoppingAdapter.poll(context, Option.some(third.cursor)))
      expect(fourth.records).toEqual([])
      expect(google.tokenCalls()).toHaveLength(1)
      expect(google.server.errors).toEqual([])
    }))

  it.scopedLive("an unreadable cursor starts over; beyond the tracked maximum, products are reported by lastUpdateDate", () =>
    Effect.gen(function*() {
      const google = yield* fakeGoogle
      const context = yield* contextFor(google.settings)
      google.state.catalog = ["a", "b", "c", "d", "e"].map((sku) => listedProduct(sku))

      const restarted = yield* run(googleShoppingAdapter.poll(context, Option.some("not-a-cursor")))
      expect(restarted.records).toHaveLength(5)

      const small = makeGoogleShoppingAdapter({ maxTrackedProducts: 2 })
      const first = yield* run(small.poll(context, Option.none()))
      expect(first.records).toHaveLength(5)
      expect(Object.keys((JSON.parse(first.cursor) as { seen: object }).seen)).toEqual(["en~US~a", "en~US~b"])

      const quiet = yield* run(small.poll(context, Option.some(first.cursor)))
      expect(quiet.records).toEqual([])

      // An untracked product updated after the last poll is reported; a tracked one by its status.
      google.state.catalog[3] = listedProduct("d", { approved: ["US"], lastUpdateDate: new Date(Date.now() + 60_000).toISOString() })
      google.state.catalog[0] = listedProduct("a", { pending: ["US"] })
      const later = yield* run(small.poll(context, Option.some(quiet.cursor)))
      expect(later.records.map((r) => [r.externalOrderId, r.raw.change])).toEqual([
        [`accounts/${account}/products/en~US~a`, "CHANGED"],
        [`accounts/${account}/products/en~US~d`, "UPDATED"]
      ])
      expect(google.server.errors).toEqual([])
    }))
})
