/**
 * A local fake of SP-API and Login with Amazon for the Amazon connector tests
 * (node:http on 127.0.0.1:0). It checks every request against the shapes of
 * amzn/selling-partner-api-models (listingsItems_2021-08-01.json,
 * ordersV0.json) and the LWA refresh-token grant, answers a 400 naming what is
 * wrong (and records it in `violations`), and can be scripted per request.
 */
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

// --- the fake SP-API + LWA ---------------------------------------------------------

export const SELLER = "A2SELLER1"
export const MARKETPLACE = "ATVPDKIKX0DER"
export const CLIENT_ID = "amzn1.application-oa2-client.test"
export const CLIENT_SECRET = "lwa-secret-value"
export const REFRESH_TOKEN = "Atzr|refresh-token-value"
export const TOKEN_PATH = "/auth/o2/token"

export interface Seen {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
  readonly text: string
  readonly json: unknown
}

export interface Answer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: unknown
}

export interface Order {
  readonly AmazonOrderId: string
  readonly LastUpdateDate: string
  readonly OrderStatus: string
  readonly [key: string]: unknown
}

export interface OrderItem {
  readonly OrderItemId: string
  readonly SellerSKU: string
  readonly QuantityOrdered: number
  readonly QuantityShipped?: number
}

export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextToken?: string
}

export interface FakeState {
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

export const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
export const isIsoDateTime = (s: unknown) =>
  typeof s === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
  !Number.isNaN(Date.parse(s))
export const spError = (status: number, code: string, message: string, details?: string): Answer => ({
  status,
  body: { errors: [{ code, message, ...(details !== undefined ? { details } : {}) }] }
})
export const queryKeys = (q: URLSearchParams) => [...new Set(q.keys())].sort()

export const localized = new Set(["item_name", "product_description", "brand"])

/** What is wrong with a request to SP-API, per the models; [] when nothing. */
export const checkSpApi = (seen: Seen, productType: string): Array<string> => {
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

export const checkTokenRequest = (seen: Seen): Array<string> => {
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

export const startFake = (productType = "PRODUCT") =>
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
