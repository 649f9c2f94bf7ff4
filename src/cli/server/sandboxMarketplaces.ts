import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/**
 * Local stand-ins for the marketplaces (`npm start -- --sandbox`): one HTTP
 * server on 127.0.0.1 answering what the connectors ask of Amazon (LWA token,
 * Listings Items, Orders v0), eBay (OAuth token, Inventory, Fulfillment) and
 * Google (OAuth token, Merchant API productInputs / products) under
 * `/amazon`, `/ebay` and `/google`, accepting every well-formed call, so a
 * newcomer sees connector runs and polls succeed end to end. It checks
 * little: the connector tests' fakes (test/connectors) hold the strict ones.
 */

export interface SandboxCall {
  readonly marketplace: string
  readonly method: string
  readonly path: string
  readonly status: number
}

export interface Sandbox {
  readonly url: string
  readonly calls: ReadonlyArray<SandboxCall>
}

type Answer = { readonly status: number; readonly body?: unknown }

const token = (): Answer => ({
  status: 200,
  body: { access_token: `sandbox-${randomUUID()}`, token_type: "Bearer", expires_in: 3600 }
})

/** One order per marketplace, changed once (when the sandbox started): a first poll imports it, later ones see it again. */
const answer = (startedAt: string, method: string, path: string): Answer => {
  const [, marketplace = "", ...rest] = path.split("/")
  const route = `/${rest.join("/")}`
  switch (marketplace) {
    case "amazon":
      if (method === "POST" && route === "/auth/o2/token") return token()
      if ((method === "PUT" || method === "PATCH") && route.startsWith("/listings/2021-08-01/items/")) {
        return { status: 200, body: { sku: decodeURIComponent(route.split("/").pop() ?? ""), status: "ACCEPTED", submissionId: randomUUID(), issues: [] } }
      }
      if (method === "GET" && route === "/orders/v0/orders") {
        return {
          status: 200,
          body: { payload: { Orders: [{ AmazonOrderId: "111-0000000-0000001", LastUpdateDate: startedAt, OrderStatus: "Unshipped" }] } }
        }
      }
      if (method === "GET" && /^\/orders\/v0\/orders\/[^/]+\/orderItems$/.test(route)) {
        return { status: 200, body: { payload: { OrderItems: [{ OrderItemId: "1", SellerSKU: "demo-1", QuantityOrdered: 1 }] } } }
      }
      if (method === "POST" && /^\/orders\/v0\/orders\/[^/]+\/shipmentConfirmation$/.test(route)) return { status: 204 }
      break
    case "ebay":
      if (method === "POST" && route === "/identity/v1/oauth2/token") return token()
      if (route.startsWith("/sell/inventory/v1/inventory_item/")) return method === "PUT" ? { status: 204 } : { status: 404, body: { errors: [] } }
      if (method === "GET" && route === "/sell/inventory/v1/offer") return { status: 200, body: { offers: [], total: 0 } }
      if (method === "POST" && route === "/sell/inventory/v1/bulk_update_price_quantity") return { status: 200, body: { responses: [] } }
      if (method === "GET" && route === "/sell/fulfillment/v1/order") {
        return {
          status: 200,
          body: { orders: [{ orderId: "SANDBOX-EBAY-1", lastModifiedDate: startedAt, orderFulfillmentStatus: "NOT_STARTED" }], total: 1 }
        }
      }
      if (method === "POST" && /^\/sell\/fulfillment\/v1\/order\/[^/]+\/shipping_fulfillment$/.test(route)) return { status: 201 }
      break
    case "google":
      if (method === "POST" && route === "/token") return token()
      if (method === "POST" && /^\/products\/v1\/accounts\/[^/]+\/productInputs:insert$/.test(route)) {
        return { status: 200, body: { name: `${route.split("/productInputs")[0]!.slice(13)}/productInputs/sandbox` } }
      }
      if (method === "GET" && /^\/products\/v1\/accounts\/[^/]+\/products$/.test(route)) return { status: 200, body: { products: [] } }
      break
  }
  return { status: 404, body: { error: { code: 404, message: `the sandbox has no ${method} ${route} for ${marketplace || "this path"}` } } }
}

const drain = (request: IncomingMessage) =>
  new Promise<void>((resolve) => {
    request.on("data", () => {})
    request.on("end", resolve)
    request.on("error", () => resolve())
  })

/** Starts the stand-ins on 127.0.0.1 (a free port, or `port`); closed with the scope. */
export const startSandboxMarketplaces = (port = 0) =>
  Effect.acquireRelease(
    Effect.async<{ readonly sandbox: Sandbox; readonly close: () => void }, Error>((resume) => {
      const startedAt = new Date().toISOString()
      const calls: Array<SandboxCall> = []
      const server = createServer((request: IncomingMessage, response: ServerResponse) => {
        void drain(request).then(() => {
          const path = (request.url ?? "/").split("?")[0]!
          const method = request.method ?? "GET"
          const { status, body } = answer(startedAt, method, path)
          calls.push({ marketplace: path.split("/")[1] ?? "", method, path, status })
          if (calls.length > 1000) calls.shift()
          response.writeHead(status, body === undefined ? {} : { "content-type": "application/json" })
          response.end(body === undefined ? undefined : JSON.stringify(body))
        })
      })
      server.once("error", (error) => resume(Effect.fail(new Error(`sandbox: cannot listen: ${error.message}`))))
      server.listen(port, "127.0.0.1", () => {
        const { port: bound } = server.address() as AddressInfo
        resume(Effect.succeed({
          sandbox: { url: `http://127.0.0.1:${bound}`, calls },
          close: () => {
            server.close()
            server.closeAllConnections()
          }
        }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ sandbox }) => sandbox))
