/**
 * The Amazon connector against a local fake of SP-API and Login with Amazon
 * (node:http on 127.0.0.1:0). The fake checks every request against the
 * shapes of amzn/selling-partner-api-models (listingsItems_2021-08-01.json,
 * ordersV0.json) and the LWA refresh-token grant, answers a 400 naming what is
 * wrong (and records it in `violations`), and can be scripted per request.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { makeHttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { ConnectorError } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { amazonAdapter } from "../../src/programs/connectors/adapters/amazon/index.ts"
import { makeConnectorContext } from "../../src/programs/connectors/context.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"

// --- the fake SP-API + LWA ---------------------------------------------------------

const SELLER = "A2SELLER1"
const MARKETPLACE = "ATVPDKIKX0DER"
const CLIENT_ID = "amzn1.application-oa2-client.test"
const CLIENT_SECRET = "lwa-secret-value"
const REFRESH_TOKEN = "Atzr|refresh-token-value"
const TOKEN_PATH = "/auth/o2/token"

interface Seen {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
  readonly text: string
  readonly json: unknown
}

interface Answer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: unknown
}

interface Order {
  readonly AmazonOrderId: string
  readonly LastUpdateDate: string
  readonly OrderStatus: string
  readonly [key: string]: unknown
}

interface OrderItem {
  readonly OrderItemId: string
  readonly SellerSKU: string
  readonly QuantityOrdered: number
  readonly QuantityShipped?: number
}

interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextToken?: string
}

interface FakeState {
  readonly url: string
  readonly tokenUrl: string
  readonly requests: Array<Seen>
  /** Requests that did not match the reference (each also answered with a 400). */
  readonly violations: Array<string>
  /** Access tokens issued, in order. */
  readonly issued: Array<string>
  /** Tokens the fake now treats as expired (answered with SP-API's 403 Unauthorized). */
  readonly revoked: Set<string>
  /** `expires_in` of the next tokens. */
  tokenTtl: number
  /** One-shot answers, used in order by the first request they match (after the checks). */
  readonly scripted: Array<{ readonly match: (seen: Seen) => boolean; readonly answer: Answer }>
  /** getOrders pages: the first without NextToken, then by the token of the previous page. */
  orderPages: ReadonlyArray<Page<Order>>
  /** getOrderItems pages per order id. */
  orderItems: Record<string, ReadonlyArray<Page<OrderItem>>>
  readonly sp: (method: string, pathStart: string) => Array<Seen>
  readonly tokenCalls: () => number
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isIsoDateTime = (s: unknown) =>
  typeof s === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
  !Number.isNaN(Date.parse(s))
const spError = (status: number, code: string, message: string, details?: string): Answer => ({
  status,
  body: { errors: [{ code, message, ...(details !== undefined ? { details } : {}) }] }
})
const queryKeys = (q: URLSearchParams) => [...new Set(q.keys())].sort()

const localized = new Set(["item_name", "product_description", "brand"])

/** What is wrong with a request to SP-API, per the models; [] when nothing. */
const checkSpApi = (seen: Seen, productType: string): Array<string> => {
  const problems: Array<string> = []
  const need = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem)
  }
  const listing = /^\/listings\/2021-08-01\/items\/([^/]+)\/([^/]+)$/.exec(seen.path)
  const orderItems = /^\/orders\/v0\/orders\/([^/]+)\/orderItems$/.exec(seen.path)
  const confirm = /^\/orders\/v0\/orders\/([^/]+)\/shipmentConfirmation$/.exec(seen.path)
  const hasJson = seen.method === "PUT" || seen.method === "PATCH" || seen.method === "POST"
  if (hasJson) need(seen.headers["content-type"] === "application/json", `content-type ${seen.headers["content-type"]}`)
  else need(seen.text === "", `${seen.method} with a body`)

  if (listing !== null && (seen.method === "PUT" || seen.method === "PATCH")) {
    need(decodeURIComponent(listing[1]!) === SELLER, `sellerId ${listing[1]}`)
    need(
      queryKeys(seen.query).join() === "marketplaceIds" && seen.query.get("marketplaceIds") === MARKETPLACE,
      `query ${seen.query}`
    )
    const body = seen.json
    need(isRecord(body), "body is not an object")
    if (!isRecord(body)) return problems
    need(body.productType === productType, `productType ${String(body.productType)}`)
    if (seen.method === "PUT") {
      need(Object.keys(body).sort().join() === "attributes,productType,requirements", `PUT keys ${Object.keys(body)}`)
      need(body.requirements === "LISTING", `requirements ${String(body.requirements)}`)
      need(isRecord(body.attributes), "attributes is not an object")
      if (isRecord(body.attributes)) {
        for (const [name, value] of Object.entries(body.attributes)) {
          need(Array.isArray(value) && value.length > 0 && value.every(isRecord), `attribute ${name} is not an array of objects`)
          if (!Array.isArray(value)) continue
          for (const entry of value as Array<Record<string, unknown>>) {
            if (localized.has(name)) {
              need(
                typeof entry.value === "string" && typeof entry.language_tag === "string" &&
                  entry.marketplace_id === MARKETPLACE,
                `attribute ${name} needs value, language_tag, marketplace_id`
              )
            }
            if (name !== "fulfillment_availability" && entry.marketplace_id !== undefined) {
              need(entry.marketplace_id === MARKETPLACE, `attribute ${name} marketplace_id ${String(entry.marketplace_id)}`)
            }
          }
        }
      }
    } else {
      need(Object.keys(body).sort().join() === "patches,productType", `PATCH keys ${Object.keys(body)}`)
      need(Array.isArray(body.patches) && body.patches.length > 0, "patches must be a non-empty array")
      for (const patch of Array.isArray(body.patches) ? body.patches : []) {
        need(
          isRecord(patch) && ["add", "replace", "delete"].includes(String(patch.op)) &&
            typeof patch.path === "string" && patch.path.startsWith("/attributes/") &&
            Array.isArray(patch.value) && patch.value.every(isRecord),
          `patch ${JSON.stringify(patch)}`
        )
      }
    }
  } else if (seen.path === "/orders/v0/orders" && seen.method === "GET") {
    need(seen.query.get("MarketplaceIds") === MARKETPLACE, `MarketplaceIds ${seen.query.get("MarketplaceIds")}`)
    if (seen.query.has("NextToken")) {
      need(queryKeys(seen.query).join() === "MarketplaceIds,NextToken", `NextToken request with ${queryKeys(seen.query)}`)
    } else {
      const after = seen.query.get("LastUpdatedAfter")
      const before = seen.query.get("LastUpdatedBefore")
      need(isIsoDateTime(after), `LastUpdatedAfter ${after}`)
      need(!seen.query.has("CreatedAfter"), "CreatedAfter with LastUpdatedAfter")
      if (before !== null) {
        need(isIsoDateTime(before), `LastUpdatedBefore ${before}`)
        need(Date.parse(before) >= Date.parse(after ?? ""), "LastUpdatedBefore before LastUpdatedAfter")
        need(Date.parse(before) <= Date.now() - 120_000, "LastUpdatedBefore less than 2 minutes before now")
      }
      const max = Number(seen.query.get("MaxResultsPerPage") ?? "100")
      need(Number.isInteger(max) && max >= 1 && max <= 100, `MaxResultsPerPage ${max}`)
    }
  } else if (orderItems !== null && seen.method === "GET") {
    const keys = queryKeys(seen.query).join()
    need(keys === "" || keys === "NextToken", `getOrderItems query ${keys}`)
  } else if (confirm !== null && seen.method === "POST") {
    const body = seen.json
    need(isRecord(body) && body.marketplaceId === MARKETPLACE, "marketplaceId")
    const detail = isRecord(body) ? body.packageDetail : undefined
    need(isRecord(detail), "packageDetail")
    if (isRecord(detail)) {
      need(typeof detail.packageReferenceId === "string", "packageReferenceId")
      need(typeof detail.carrierCode === "string", "carrierCode")
      need(typeof detail.trackingNumber === "string", "trackingNumber")
      need(isIsoDateTime(detail.shipDate), `shipDate ${String(detail.shipDate)}`)
      need(
        Array.isArray(detail.orderItems) && detail.orderItems.length > 0 &&
          detail.orderItems.every((i) =>
            isRecord(i) && typeof i.orderItemId === "string" && Number.isInteger(i.quantity) && (i.quantity as number) > 0
          ),
        `orderItems ${JSON.stringify(detail.orderItems)}`
      )
    }
  } else {
    problems.push(`no such operation: ${seen.method} ${seen.path}`)
  }
  return problems
}

const checkTokenRequest = (seen: Seen): Array<string> => {
  const problems: Array<string> = []
  if (seen.method !== "POST") problems.push(`token request ${seen.method}`)
  if (seen.headers["content-type"] !== "application/x-www-form-urlencoded") {
    problems.push(`token content-type ${seen.headers["content-type"]}`)
  }
  if (seen.headers["x-amz-access-token"] !== undefined) problems.push("token request carries an access token")
  const form = new URLSearchParams(seen.text)
  const keys = [...form.keys()].sort().join()
  if (keys !== "client_id,client_secret,grant_type,refresh_token") problems.push(`token form keys ${keys}`)
  if (form.get("grant_type") !== "refresh_token") problems.push(`grant_type ${form.get("grant_type")}`)
  return problems
}

const startFake = (productType = "PRODUCT") =>
  Effect.gen(function*() {
    const state = {} as FakeState
    const answer = (seen: Seen): Answer => {
      if (seen.path === TOKEN_PATH) {
        const problems = checkTokenRequest(seen)
        if (problems.length > 0) {
          state.violations.push(...problems)
          return { status: 400, body: { error: "invalid_request", error_description: problems.join("; ") } }
        }
        const scripted = takeScripted(seen)
        if (scripted !== undefined) return scripted
        const form = new URLSearchParams(seen.text)
        if (form.get("client_id") !== CLIENT_ID || form.get("client_secret") !== CLIENT_SECRET) {
          return { status: 401, body: { error: "invalid_client", error_description: "Client authentication failed" } }
        }
        if (form.get("refresh_token") !== REFRESH_TOKEN) {
          return { status: 400, body: { error: "invalid_grant", error_description: "The request has an invalid grant parameter : refresh_token" } }
        }
        const token = `Atza|access-${state.issued.length + 1}`
        state.issued.push(token)
        return {
          status: 200,
          body: { access_token: token, refresh_token: REFRESH_TOKEN, token_type: "bearer", expires_in: state.tokenTtl }
        }
      }

      const problems = checkSpApi(seen, productType)
      if (problems.length > 0) {
        state.violations.push(...problems)
        return spError(400, "InvalidInput", `fake: ${problems.join("; ")}`)
      }
      const token = seen.headers["x-amz-access-token"]
      if (typeof token !== "string" || !state.issued.includes(token)) {
        state.violations.push(`x-amz-access-token ${String(token)}`)
        return spError(403, "Unauthorized", "Access to requested resource is denied.", "The access token you provided is invalid.")
      }
      if (state.revoked.has(token)) {
        return spError(403, "Unauthorized", "Access to requested resource is denied.", "The access token you provided has expired.")
      }
      const scripted = takeScripted(seen)
      if (scripted !== undefined) return scripted

      if (seen.path.startsWith("/listings/")) {
        const sku = decodeURIComponent(seen.path.split("/").pop()!)
        return { status: 200, body: { sku, status: "ACCEPTED", submissionId: randomUUID(), issues: [] } }
      }
      if (seen.path === "/orders/v0/orders") {
        const token = seen.query.get("NextToken")
        const index = token === null ? 0 : state.orderPages.findIndex((_, i) => state.orderPages[i - 1]?.nextToken === token)
        const page = state.orderPages[index]
        if (page === undefined) return spError(400, "InvalidInput", `fake: unknown NextToken ${token}`)
        return {
          status: 200,
          body: {
            payload: {
              Orders: page.items,
              ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {}),
              LastUpdatedBefore: seen.query.get("LastUpdatedBefore") ?? undefined
            }
          }
        }
      }
      const items = /^\/orders\/v0\/orders\/([^/]+)\/orderItems$/.exec(seen.path)
      if (items !== null) {
        const orderId = decodeURIComponent(items[1]!)
        const pages = state.orderItems[orderId]
        if (pages === undefined) return spError(404, "NotFound", `Order ${orderId} not found`)
        const token = seen.query.get("NextToken")
        const index = token === null ? 0 : pages.findIndex((_, i) => pages[i - 1]?.nextToken === token)
        const page = pages[index]
        if (page === undefined) return spError(400, "InvalidInput", `fake: unknown NextToken ${token}`)
        return {
          status: 200,
          body: {
            payload: {
              AmazonOrderId: orderId,
              OrderItems: page.items,
              ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {})
            }
          }
        }
      }
      // shipmentConfirmation
      return { status: 204 }
    }
    const takeScripted = (seen: Seen) => {
      const index = state.scripted.findIndex((s) => s.match(seen))
      if (index < 0) return undefined
      return state.scripted.splice(index, 1)[0]!.answer
    }

    const server = yield* Effect.acquireRelease(
      Effect.async<http.Server>((resume) => {
        const s = http.createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (c: Buffer) => chunks.push(c))
          req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://fake")
            const text = Buffer.concat(chunks).toString("utf8")
            let json: unknown = undefined
            try {
              json = text === "" ? undefined : JSON.parse(text)
            } catch {
              json = undefined
            }
            const seen: Seen = { method: req.method ?? "", path: url.pathname, query: url.searchParams, headers: req.headers, text, json }
            state.requests.push(seen)
            const reply = answer(seen)
            const headers: Record<string, string> = { "x-amzn-RequestId": randomUUID(), ...reply.headers }
            if (reply.body !== undefined) headers["content-type"] = "application/json"
            res.writeHead(reply.status, headers)
            res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body))
          })
        })
        s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
      }),
      (s) =>
        Effect.async<void>((resume) => {
          s.closeAllConnections()
          s.close(() => resume(Effect.void))
        })
    )
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    Object.assign(state, {
      url,
      tokenUrl: `${url}${TOKEN_PATH}`,
      requests: [],
      violations: [],
      issued: [],
      revoked: new Set<string>(),
      tokenTtl: 3600,
      scripted: [],
      orderPages: [{ items: [] }],
      orderItems: {},
      sp: (method: string, pathStart: string) =>
        state.requests.filter((r) => r.method === method && r.path.startsWith(pathStart)),
      tokenCalls: () => state.requests.filter((r) => r.path === TOKEN_PATH).length
    })
    return state
  })

// --- test harness ---------------------------------------------------------------------

const credentials = { "api-key": CLIENT_ID, "api-secret": CLIENT_SECRET, "refresh-token": REFRESH_TOKEN }

const setup = (options: {
  readonly settings?: Record<string, unknown>
  readonly credentials?: Record<string, string>
} = {}) =>
  Effect.gen(function*() {
    const productType = typeof options.settings?.productType === "string" ? options.settings.productType : "PRODUCT"
    const fake = yield* startFake(productType)
    const settings = yield* Schema.decodeUnknown(amazonAdapter.settings)({
      sellerId: SELLER,
      baseUrl: fake.url,
      tokenUrl: fake.tokenUrl,
      ...options.settings
    })
    const context = yield* makeConnectorContext({
      configId: "cfg-amazon-1",
      storeId: "store-1",
      settings,
      credentials: options.credentials ?? credentials
    })
    const httpOut = yield* makeHttpOutLive({ defaultTimeoutMs: 5_000, defaultMaxBodyBytes: 1024 * 1024, blockPrivateAddresses: false })
    const handle = (eventType: string, data: Record<string, unknown>) =>
      amazonAdapter.handleEvent(
        context,
        new EventEnvelope({ eventId: randomUUID(), eventType, storeId: "store-1", occurredAt: new Date().toISOString(), data })
      ).pipe(Effect.provideService(HttpOut, httpOut))
    const poll = (cursor: Option.Option<string>) =>
      amazonAdapter.poll(context, cursor).pipe(Effect.provideService(HttpOut, httpOut))
    return { fake, context, handle, poll }
  })

const product = (overrides: Record<string, unknown> = {}) => ({
  sku: "SKU-1",
  title: "Trail Runner 2",
  description: "A light trail shoe.",
  price: { amount: 89.5, currency: "USD" },
  imageUrls: ["https://img.example/1.jpg", "https://img.example/2.jpg", "https://img.example/3.jpg"],
  condition: "NEW",
  brand: "Acme",
  ...overrides
})

const failure = <A>(effect: Effect.Effect<A, ConnectorError>) =>
  Effect.flip(effect).pipe(Effect.tap((e) => Effect.sync(() => expect(e).toBeInstanceOf(ConnectorError))))

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

// --- tests ------------------------------------------------------------------------------------

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

  it.scopedLive("refreshes the token once it is within 60 s of expiring", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.tokenTtl = 61 // usable for 1 s with the 60 s margin
      yield* handle("product.updated", product())
      yield* handle("product.updated", product())
      expect(fake.tokenCalls()).toBe(1)

      yield* Effect.sleep("1100 millis")
      yield* handle("product.updated", product())

      expect(fake.tokenCalls()).toBe(2)
      expect(fake.sp("PUT", "/listings/").map((r) => r.headers["x-amz-access-token"])).toEqual([
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

describe("amazon connector: order.fulfilled", () => {
  const shipped = (overrides: Record<string, unknown> = {}) => ({
    orderId: "ss3-order-1",
    externalOrderId: "902-1106328-1059050",
    marketplace: "amazon",
    carrierCode: "UPS",
    trackingNumber: "1Z999AA10123456784",
    shipDate: "2024-05-02T10:00:00Z",
    items: [{ externalItemId: "79039765272157", quantity: 1 }],
    ...overrides
  })

  it.scopedLive("confirms the shipment with the items' Amazon ids (no lookup needed)", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()

      const outcome = yield* handle("order.fulfilled", shipped())

      expect(outcome).toEqual({ entityType: "shipment", recordCount: 1 })
      expect(fake.violations).toEqual([])
      expect(fake.sp("GET", "/orders/")).toEqual([])
      const posts = fake.sp("POST", "/orders/")
      expect(posts).toHaveLength(1)
      expect(posts[0]!.path).toBe("/orders/v0/orders/902-1106328-1059050/shipmentConfirmation")
      expect(posts[0]!.headers["x-amz-access-token"]).toBe("Atza|access-1")
      expect(posts[0]!.json).toEqual({
        marketplaceId: MARKETPLACE,
        packageDetail: {
          packageReferenceId: "1",
          carrierCode: "UPS",
          trackingNumber: "1Z999AA10123456784",
          shipDate: "2024-05-02T10:00:00.000Z",
          orderItems: [{ orderItemId: "79039765272157", quantity: 1 }]
        }
      })
    }))

  it.scopedLive("looks the order items up by SellerSKU (following NextToken) when the event lacks their ids", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.orderItems["902-1106328-1059050"] = [
        { items: [{ OrderItemId: "111", SellerSKU: "SKU-A", QuantityOrdered: 1 }], nextToken: "items-2" },
        { items: [{ OrderItemId: "222", SellerSKU: "SKU-B", QuantityOrdered: 3 }] }
      ]

      const outcome = yield* handle("order.fulfilled", shipped({
        items: [{ sku: "SKU-B", quantity: 2 }, { externalItemId: "999", sku: "SKU-X", quantity: 1 }]
      }))

      expect(outcome).toEqual({ entityType: "shipment", recordCount: 1 })
      expect(fake.violations).toEqual([])
      const lookups = fake.sp("GET", "/orders/v0/orders/902-1106328-1059050/orderItems")
      expect(lookups.map((r) => r.query.toString())).toEqual(["", "NextToken=items-2"])
      const body = fake.sp("POST", "/orders/")[0]!.json as { packageDetail: { orderItems: unknown } }
      expect(body.packageDetail.orderItems).toEqual([
        { orderItemId: "222", quantity: 2 },
        { orderItemId: "999", quantity: 1 }
      ])
    }))

  it.scopedLive("with no items listed, ships every item's unshipped quantity", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.orderItems["902-1106328-1059050"] = [{
        items: [
          { OrderItemId: "111", SellerSKU: "SKU-A", QuantityOrdered: 2, QuantityShipped: 1 },
          { OrderItemId: "222", SellerSKU: "SKU-B", QuantityOrdered: 1, QuantityShipped: 1 }
        ]
      }]
      yield* handle("order.fulfilled", shipped({ items: [] }))
      const body = fake.sp("POST", "/orders/")[0]!.json as { packageDetail: { orderItems: unknown } }
      expect(body.packageDetail.orderItems).toEqual([{ orderItemId: "111", quantity: 1 }])
    }))

  it.scopedLive("an SKU the Amazon order does not have is Invalid, and nothing is confirmed", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.orderItems["902-1106328-1059050"] = [{ items: [{ OrderItemId: "111", SellerSKU: "SKU-A", QuantityOrdered: 1 }] }]

      const error = yield* failure(handle("order.fulfilled", shipped({ items: [{ sku: "SKU-Z", quantity: 1 }] })))

      expect(error.kind).toBe("Invalid")
      expect(error.message).toContain("SKU-Z")
      expect(fake.sp("POST", "/orders/")).toEqual([])
    }))

  it.scopedLive("an order not sold on Amazon is nothing to do", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      const { externalOrderId: _, ...withoutExternal } = shipped()

      expect(yield* handle("order.fulfilled", withoutExternal)).toEqual({ entityType: "shipment", recordCount: 0 })
      expect(yield* handle("order.fulfilled", shipped({ marketplace: "ebay" }))).toEqual({ entityType: "shipment", recordCount: 0 })
      expect(fake.requests).toEqual([])
    }))

  it.scopedLive("a 400 from confirmShipment is a rejection with Amazon's message", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      fake.scripted.push({
        match: (r) => r.method === "POST" && r.path.endsWith("/shipmentConfirmation"),
        answer: spError(400, "InvalidInput", "Invalid Input", "carrierCode")
      })
      const error = yield* failure(handle("order.fulfilled", shipped()))
      expect(error.kind).toBe("Rejected")
      expect(error.message).toBe("confirmShipment: HTTP 400: InvalidInput: Invalid Input (carrierCode)")
    }))

  it.scopedLive("unsupported event types are nothing to do", () =>
    Effect.gen(function*() {
      const { fake, handle } = yield* setup()
      expect((yield* handle("order.placed", { orderId: "1" })).recordCount).toBe(0)
      expect(fake.requests).toEqual([])
    }))
})

describe("amazon connector: poll", () => {
  const order = (id: string, updated: string, status = "Unshipped"): Order => ({
    AmazonOrderId: id,
    PurchaseDate: "2024-05-01T09:00:00Z",
    LastUpdateDate: updated,
    OrderStatus: status,
    MarketplaceId: MARKETPLACE,
    OrderTotal: { CurrencyCode: "USD", Amount: "10.00" }
  })

  it.scopedLive("follows NextToken over three pages and returns the LastUpdatedBefore bound as the cursor", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      fake.orderPages = [
        { items: [order("111-0000001-0000001", "2024-05-01T10:00:00Z"), order("111-0000001-0000002", "2024-05-01T10:05:00Z")], nextToken: "page-2" },
        { items: [order("111-0000001-0000003", "2024-05-01T10:07:00Z", "Shipped")], nextToken: "page-3" },
        { items: [order("111-0000001-0000004", "2024-05-01T10:09:00Z", "Canceled")] }
      ]
      const cursor = "2024-05-01T09:58:00Z"
      const startedAt = Date.now()

      const outcome = yield* poll(Option.some(cursor))

      expect(fake.violations).toEqual([])
      expect(outcome.entityType).toBe("order")
      expect(outcome.records.map((r) => [r.externalOrderId, r.updatedAt, r.status])).toEqual([
        ["111-0000001-0000001", "2024-05-01T10:00:00Z", "Unshipped"],
        ["111-0000001-0000002", "2024-05-01T10:05:00Z", "Unshipped"],
        ["111-0000001-0000003", "2024-05-01T10:07:00Z", "Shipped"],
        ["111-0000001-0000004", "2024-05-01T10:09:00Z", "Canceled"]
      ])
      expect(outcome.records[0]!.raw).toEqual(order("111-0000001-0000001", "2024-05-01T10:00:00Z"))

      const gets = fake.sp("GET", "/orders/v0/orders")
      expect(gets).toHaveLength(3)
      const first = gets[0]!.query
      expect(queryKeys(first)).toEqual(["LastUpdatedAfter", "LastUpdatedBefore", "MarketplaceIds", "MaxResultsPerPage"])
      expect(first.get("LastUpdatedAfter")).toBe(cursor)
      expect(first.get("MaxResultsPerPage")).toBe("100")
      expect(gets.slice(1).map((r) => Object.fromEntries(r.query))).toEqual([
        { MarketplaceIds: MARKETPLACE, NextToken: "page-2" },
        { MarketplaceIds: MARKETPLACE, NextToken: "page-3" }
      ])
      expect(gets.every((r) => r.headers["x-amz-access-token"] === "Atza|access-1")).toBe(true)

      // The cursor is the bound asked for: at least 2 minutes ago, to the second.
      const before = first.get("LastUpdatedBefore")!
      expect(outcome.cursor).toBe(before)
      expect(Date.parse(before)).toBeLessThanOrEqual(Date.now() - 120_000)
      expect(Date.parse(before)).toBeGreaterThan(startedAt - 120_000 - 2_000)

      // The next poll starts exactly there (Amazon's bounds are inclusive: a repeat, never a gap).
      fake.orderPages = [{ items: [] }]
      const next = yield* poll(Option.some(outcome.cursor))
      expect(fake.sp("GET", "/orders/v0/orders")[3]!.query.get("LastUpdatedAfter")).toBe(outcome.cursor)
      expect(next.records).toEqual([])
      expect(Date.parse(next.cursor)).toBeGreaterThanOrEqual(Date.parse(outcome.cursor))
    }))

  it.scopedLive("the first poll looks back a day", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      const outcome = yield* poll(Option.none())
      expect(fake.violations).toEqual([])
      const query = fake.sp("GET", "/orders/v0/orders")[0]!.query
      const after = Date.parse(query.get("LastUpdatedAfter")!)
      const before = Date.parse(query.get("LastUpdatedBefore")!)
      expect(before - after).toBe(24 * 60 * 60 * 1000)
      expect(outcome.cursor).toBe(iso(before))
      expect(outcome.records).toEqual([])
    }))

  it.scopedLive("a cursor less than 2 minutes old asks nothing and stays", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      const recent = iso(Date.now() - 30_000)
      const outcome = yield* poll(Option.some(recent))
      expect(outcome).toEqual({ entityType: "order", records: [], cursor: recent })
      expect(fake.requests).toEqual([])
    }))

  it.scopedLive("a throttled page (429, Retry-After: 0) is retried; the poll goes on", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      fake.orderPages = [
        { items: [order("111-0000001-0000001", "2024-05-01T10:00:00Z")], nextToken: "page-2" },
        { items: [order("111-0000001-0000002", "2024-05-01T10:01:00Z")] }
      ]
      fake.scripted.push({
        match: (r) => r.path === "/orders/v0/orders" && r.query.get("NextToken") === "page-2",
        answer: { ...spError(429, "QuotaExceeded", "You exceeded your quota for the requested resource."), headers: { "retry-after": "0" } }
      })

      const outcome = yield* poll(Option.some("2024-05-01T09:00:00Z"))

      expect(outcome.records.map((r) => r.externalOrderId)).toEqual(["111-0000001-0000001", "111-0000001-0000002"])
      expect(fake.sp("GET", "/orders/v0/orders").map((r) => r.query.get("NextToken"))).toEqual([null, "page-2", "page-2"])
    }))

  it.scopedLive("a failing first page fails the poll", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      fake.scripted.push({
        match: (r) => r.path === "/orders/v0/orders",
        answer: spError(400, "InvalidInput", "Invalid MarketplaceIds")
      })
      const error = yield* failure(poll(Option.some("2024-05-01T09:00:00Z")))
      expect(error.kind).toBe("Rejected")
      expect(error.message).toBe("getOrders: HTTP 400: InvalidInput: Invalid MarketplaceIds")
    }))

  // Changed by the page-checkpointed polling: a NextToken Amazon refuses (they expire) no
  // longer fails the poll for good; the window restarts from its start, its end halved.
  it.scopedLive("a NextToken Amazon no longer accepts restarts the window from its start, halved: nothing is skipped", () =>
    Effect.gen(function*() {
      const { fake, poll } = yield* setup()
      const o1 = order("111-0000001-0000001", "2024-05-01T10:00:00Z")
      const o2 = order("111-0000001-0000002", "2024-05-01T10:30:00Z")
      fake.orderPages = [{ items: [o1], nextToken: "page-2" }, { items: [o2] }]
      fake.scripted.push({
        match: (r) => r.query.get("NextToken") === "page-2",
        answer: spError(400, "InvalidInput", "Invalid NextToken")
      })

      const outcome = yield* poll(Option.some("2024-05-01T09:00:00Z"))

      expect(fake.violations).toEqual([])
      expect(outcome.records.map((r) => r.externalOrderId)).toEqual([o1.AmazonOrderId, o2.AmazonOrderId])
      const gets = fake.sp("GET", "/orders/v0/orders").map((r) => Object.fromEntries(r.query))
      // The window, its refused token, the same start with half the window, its token, then the other half.
      expect(gets.map((q) => q.NextToken ?? q.LastUpdatedAfter)).toEqual([
        "2024-05-01T09:00:00Z",
        "page-2",
        "2024-05-01T09:00:00Z",
        "page-2",
        gets[2]!.LastUpdatedBefore,
        "page-2"
      ])
      const [whole, half, rest] = [gets[0]!, gets[2]!, gets[4]!]
      const start = Date.parse(whole.LastUpdatedAfter!)
      const end = Date.parse(whole.LastUpdatedBefore!)
      expect(Date.parse(half.LastUpdatedBefore!) - start).toBe(Math.floor((end - start) / 2000) * 1000)
      // No gap: the second half starts where the first ended, and runs to the (new) horizon.
      expect(rest.LastUpdatedAfter).toBe(half.LastUpdatedBefore)
      expect(Date.parse(rest.LastUpdatedBefore!)).toBeGreaterThanOrEqual(end)
      expect(outcome.cursor).toBe(rest.LastUpdatedBefore)
    }))
})
