/**
 * A fake SP-API getOrders that pages a real window: it keeps a list of orders,
 * answers those whose LastUpdateDate lies in [LastUpdatedAfter,
 * LastUpdatedBefore] (inclusive, as Amazon's), MaxResultsPerPage at a time,
 * with an opaque NextToken that carries the window and the offset. Tokens of
 * an older `generation` are refused as Amazon refuses expired ones (400
 * InvalidInput). Plus the LWA token grant.
 */
import { Effect } from "effect"
import type { AmazonOrder } from "./frameworkHelpers.ts"
import { type FakeRequest, fakeServer, type FakeServer, json } from "./fakeServer.ts"

export const WINDOW_TOKEN_PATH = "/auth/o2/token"

export interface WindowFake extends FakeServer {
  /** The marketplace's orders (any order; answered oldest first). */
  orders: Array<AmazonOrder>
  /** Bumping it expires every NextToken handed out so far. */
  generation: number
  /** The getOrders request with this (1-based) number is answered 503. */
  failRequest: number | undefined
  /** Requests that broke SP-API's rules. */
  readonly violations: Array<string>
  readonly ordersRequests: () => ReadonlyArray<FakeRequest>
  readonly tokenRequests: () => number
}

interface Token {
  readonly g: number
  readonly a: string
  readonly b: string
  readonly o: number
}

const encodeToken = (token: Token) => Buffer.from(JSON.stringify(token)).toString("base64")
const decodeToken = (text: string): Token | undefined => {
  try {
    return JSON.parse(Buffer.from(text, "base64").toString("utf8")) as Token
  } catch {
    return undefined
  }
}

const invalidInput = json(400, { errors: [{ code: "InvalidInput", message: "Invalid Input" }] })

export const amazonWindowFake = Effect.gen(function*() {
  const state = {} as WindowFake
  let getOrders = 0
  const server = yield* fakeServer((request) => {
    if (request.path === WINDOW_TOKEN_PATH) {
      return json(200, { access_token: `Atza|window-${state.tokenRequests()}`, token_type: "bearer", expires_in: 3600 })
    }
    if (request.path !== "/orders/v0/orders" || request.method !== "GET") return json(404, { errors: [{ code: "NotFound" }] })
    getOrders++
    if (getOrders === state.failRequest) return json(503, { errors: [{ code: "ServiceUnavailable", message: "try later" }] })
    const q = request.query
    const keys = [...new Set(q.keys())].sort().join()
    let window: Token
    const nextToken = q.get("NextToken")
    if (nextToken !== null) {
      if (keys !== "MarketplaceIds,NextToken") state.violations.push(`NextToken request with ${keys}`)
      const token = decodeToken(nextToken)
      if (token === undefined || token.g < state.generation) return invalidInput
      window = token
    } else {
      const after = q.get("LastUpdatedAfter")
      const before = q.get("LastUpdatedBefore")
      if (after === null || before === null) {
        state.violations.push(`window without bounds: ${keys}`)
        return invalidInput
      }
      if (Date.parse(before) > Date.now() - 120_000) state.violations.push("LastUpdatedBefore less than 2 minutes before now")
      if (Date.parse(before) < Date.parse(after)) state.violations.push("LastUpdatedBefore before LastUpdatedAfter")
      window = { g: state.generation, a: after, b: before, o: 0 }
    }
    const max = Number(q.get("MaxResultsPerPage") ?? "100")
    const [from, to] = [Date.parse(window.a), Date.parse(window.b)]
    const matching = state.orders
      .filter((o) => {
        const at = Date.parse(o.LastUpdateDate)
        return at >= from && at <= to
      })
      .sort((x, y) => Date.parse(x.LastUpdateDate) - Date.parse(y.LastUpdateDate) || (x.AmazonOrderId < y.AmazonOrderId ? -1 : 1))
    const page = matching.slice(window.o, window.o + 100)
    const more = window.o + 100 < matching.length
    if (nextToken === null && max !== 100) state.violations.push(`MaxResultsPerPage ${max}`)
    return json(200, {
      payload: {
        Orders: page,
        LastUpdatedBefore: window.b,
        ...(more ? { NextToken: encodeToken({ ...window, o: window.o + 100 }) } : {})
      }
    })
  })
  return Object.assign(state, server, {
    orders: [] as Array<AmazonOrder>,
    generation: 0,
    failRequest: undefined,
    violations: [] as Array<string>,
    ordersRequests: () => server.requests.filter((r) => r.path === "/orders/v0/orders"),
    tokenRequests: () => server.requests.filter((r) => r.path === WINDOW_TOKEN_PATH).length
  }) as WindowFake
})
