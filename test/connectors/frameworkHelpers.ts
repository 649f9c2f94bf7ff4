/**
 * Shared steps of the connector framework tests (framework*.test.ts): a fake
 * Amazon SP-API + Login with Amazon on 127.0.0.1:0 (fakeServer.ts), connector
 * configs through the admin API, the rows PostgreSQL has for a config, and a
 * tap on `connector.order.imported`.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { expect } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { randomUUID } from "node:crypto"
import { type IncomingMessage, Kafka } from "../../src/services/Kafka.ts"
import { adminFetch } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { type FakeRequest, type FakeResponse, fakeServer, type FakeServer, json } from "./fakeServer.ts"

export const SELLER = "A2SELLER1"
export const MARKETPLACE = "ATVPDKIKX0DER"
export const TOKEN_PATH = "/auth/o2/token"
/** What PUT …/credentials stores: the LWA client id / secret and the seller's refresh token. */
export const CREDENTIALS = {
  apiKey: "amzn1.application-oa2-client.framework",
  apiSecret: "lwa-secret-framework-S3CR3T",
  refreshToken: "Atzr|refresh-framework-S3CR3T"
} as const

export const importedTopic = "connector.order.imported"

export const uniqueStore = (label = "store") => `${label}-${randomUUID().slice(0, 8)}`

export interface AmazonOrder {
  readonly AmazonOrderId: string
  readonly LastUpdateDate: string
  readonly OrderStatus: string
  readonly [key: string]: unknown
}

export const order = (id: string, lastUpdate: string, status = "Unshipped"): AmazonOrder => ({
  AmazonOrderId: id,
  LastUpdateDate: lastUpdate,
  OrderStatus: status,
  PurchaseDate: "2024-05-01T10:00:00Z",
  OrderTotal: { CurrencyCode: "USD", Amount: "42.00" }
})

export interface AmazonFake extends FakeServer {
  /** The answer to PUT/PATCH …/listings (default: ACCEPTED). */
  listings: (request: FakeRequest) => FakeResponse
  /** What every getOrders answers (one page): the same orders each time unless the test changes them. */
  orders: ReadonlyArray<AmazonOrder>
  /** getOrders answers after this long (to see whether two polls overlap). */
  ordersDelayMs: number
  /** The most getOrders requests in flight at once. */
  maxOrdersInFlight: number
  /** The LWA token grant answers after this long (to see whether two calls fetch a token each). */
  tokenDelayMs: number
  /** Every access token issued so far is refused from now on (SP-API's 403 for an invalid token). */
  readonly revokeTokens: () => void
  readonly tokenRequests: () => number
  readonly ordersRequests: () => ReadonlyArray<FakeRequest>
  readonly listingRequests: () => ReadonlyArray<FakeRequest>
}

const accepted = (request: FakeRequest): FakeResponse =>
  json(200, { sku: decodeURIComponent(request.path.split("/").pop()!), status: "ACCEPTED", submissionId: randomUUID(), issues: [] })

/**
 * SP-API as far as the framework tests need it: the LWA refresh-token grant
 * (checking the credentials stored through the admin API), the Listings Items
 * PUT, and getOrders. Requests without a token it issued get SP-API's 403.
 */
export const amazonFake = Effect.gen(function*() {
  const issued: Array<string> = []
  let revoked = 0
  let inFlight = 0
  const state = {} as AmazonFake
  const server = yield* fakeServer(async (request) => {
    if (request.path === TOKEN_PATH) {
      const form = request.form
      if (
        form.get("grant_type") !== "refresh_token" || form.get("client_id") !== CREDENTIALS.apiKey ||
        form.get("client_secret") !== CREDENTIALS.apiSecret || form.get("refresh_token") !== CREDENTIALS.refreshToken
      ) {
        return json(401, { error: "invalid_client", error_description: "Client authentication failed" })
      }
      if (state.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.tokenDelayMs))
      const token = `Atza|framework-${issued.length + revoked + 1}`
      issued.push(token)
      return json(200, { access_token: token, token_type: "bearer", expires_in: 3600 })
    }
    const token = request.headers["x-amz-access-token"]
    if (typeof token !== "string" || !issued.includes(token)) {
      return json(403, { errors: [{ code: "Unauthorized", message: "Access to requested resource is denied.", details: "The access token you provided is invalid." }] })
    }
    if (request.path.startsWith("/listings/2021-08-01/items/")) return state.listings(request)
    if (request.path === "/orders/v0/orders" && request.method === "GET") {
      inFlight++
      state.maxOrdersInFlight = Math.max(state.maxOrdersInFlight, inFlight)
      try {
        if (state.ordersDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.ordersDelayMs))
        return json(200, {
          payload: { Orders: state.orders, LastUpdatedBefore: request.query.get("LastUpdatedBefore") ?? undefined }
        })
      } finally {
        inFlight--
      }
    }
    return json(404, { errors: [{ code: "NotFound", message: `fake: no operation ${request.method} ${request.path}` }] })
  })
  return Object.assign(state, server, {
    listings: accepted,
    orders: [] as ReadonlyArray<AmazonOrder>,
    ordersDelayMs: 0,
    maxOrdersInFlight: 0,
    tokenDelayMs: 0,
    revokeTokens: () => {
      revoked += issued.length
      issued.length = 0
    },
    tokenRequests: () => server.requests.filter((r) => r.path === TOKEN_PATH).length,
    ordersRequests: () => server.requests.filter((r) => r.method === "GET" && r.path === "/orders/v0/orders"),
    listingRequests: () => server.requests.filter((r) => r.path.startsWith("/listings/"))
  }) as AmazonFake
})

export const amazonSettings = (fake: { readonly url: string }, extra: Record<string, unknown> = {}) => ({
  sellerId: SELLER,
  baseUrl: fake.url,
  tokenUrl: `${fake.url}${TOKEN_PATH}`,
  pollIntervalSeconds: 60,
  ...extra
})

// ---------------------------------------------------------------------------------------------
// Admin API

export interface CreatedConfig {
  readonly id: string
  readonly storeId: string
  readonly [key: string]: unknown
}

/** POST /stores/{store}/connectors, expecting 201. */
export const createConfig = (storeId: string, body: Record<string, unknown>) =>
  Effect.gen(function*() {
    const created = yield* adminFetch(`/stores/${storeId}/connectors`, {
      method: "POST",
      body: { displayName: `amazon ${randomUUID().slice(0, 6)}`, connectorType: "amazon", ...body }
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    return created.body as CreatedConfig
  })

/** PUT …/credentials with the fake's credentials, expecting 204. */
export const putCredentials = (storeId: string, id: string, credentials: Record<string, string> = CREDENTIALS) =>
  Effect.gen(function*() {
    const put = yield* adminFetch(`/stores/${storeId}/connectors/${id}/credentials`, { method: "PUT", body: credentials })
    expect(put.status, JSON.stringify(put.body)).toBe(204)
  })

export interface SyncLogItem {
  readonly id: string
  readonly configId: string
  readonly direction: "INBOUND" | "OUTBOUND"
  readonly entityType: string
  readonly recordCount: number
  readonly status: "RUNNING" | "SUCCEEDED" | "FAILED"
  readonly errorSummary: string | null
  readonly startedAt: string
  readonly finishedAt: string | null
}

export const syncLog = (storeId: string, id: string) =>
  Effect.gen(function*() {
    const log = yield* adminFetch(`/stores/${storeId}/connectors/${id}/sync-log`)
    expect(log.status, JSON.stringify(log.body)).toBe(200)
    return log.body.items as ReadonlyArray<SyncLogItem>
  })

/** POST …/poll: one poll now. */
export const pollNow = (storeId: string, id: string) =>
  adminFetch(`/stores/${storeId}/connectors/${id}/poll`, { method: "POST" })

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface PollState {
  readonly cursor: string | null
  readonly lease_owner: string | null
  readonly lease_expires_at: Date | null
  readonly lease_seconds: number | null
}

export const pollState = (configId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<PollState>`
      SELECT cursor, lease_owner, lease_expires_at,
             EXTRACT(EPOCH FROM lease_expires_at - now())::float8 AS lease_seconds
      FROM connector_poll_state WHERE config_id = ${configId}::uuid`
  ).pipe(Effect.orDie, Effect.map((rows) => rows[0]))

export interface ConnectorDeliveryRow {
  readonly delivery_id: string
  readonly event_id: string
  readonly event_type: string
  readonly status: "PENDING" | "FAILED" | "DELIVERED" | "DEAD_LETTERED"
  readonly attempt_number: number
  readonly next_retry_at: Date | null
  readonly updated_at: Date
  readonly lease_expires_at: Date | null
}

/** The outbound runs of a config (webhook_deliveries rows with config_id set). */
export const connectorDeliveries = (configId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<ConnectorDeliveryRow>`
      SELECT delivery_id::text AS delivery_id, event_id::text AS event_id, event_type, status::text AS status,
             attempt_number, next_retry_at, updated_at, lease_expires_at
      FROM webhook_deliveries WHERE config_id = ${configId}::uuid ORDER BY created_at, delivery_id`
  ).pipe(Effect.orDie)

export const attemptErrors = (deliveryId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ attempt_number: number; started_at: Date; error: string | null }>`
      SELECT attempt_number, started_at, error FROM webhook_delivery_attempts
      WHERE delivery_id = ${deliveryId}::uuid ORDER BY attempt_number`
  ).pipe(Effect.orDie)

// ---------------------------------------------------------------------------------------------
// Kafka

export interface Published {
  readonly topic: string
  readonly key: string | null
  readonly value: Record<string, any>
}

/** Platform events onto a topic (key: the store id, unless `key` puts them on another store's partition). */
export const publishEvents = (
  topic: string,
  events: ReadonlyArray<{ readonly storeId: string; readonly [key: string]: unknown }>,
  key?: string
) =>
  Effect.flatMap(Kafka, (kafka) =>
    kafka.publish(topic, events.map((e) => ({ key: key ?? e.storeId, value: JSON.stringify(e) }))))

export const productUpdated = (storeId: string, data: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  eventType: "product.updated",
  storeId,
  occurredAt: new Date().toISOString(),
  data: {
    sku: `SKU-${randomUUID().slice(0, 6)}`,
    title: "Trail Runner 2",
    description: "A light trail shoe.",
    price: { amount: 89.5, currency: "USD" },
    quantity: 7,
    imageUrls: ["https://img.example/1.jpg"],
    brand: "Acme",
    ...data
  }
})

/**
 * Every message on `connector.order.imported` (from the beginning, under a
 * group of its own) for the rest of the scope. Other tests publish there too:
 * look messages up by their config id.
 */
export const tapImported = Effect.gen(function*() {
  const kafka = yield* Kafka
  const seen = yield* Ref.make<ReadonlyArray<Published>>([])
  const decoder = new TextDecoder()
  yield* kafka.consume(
    { groupId: `test-imported-tap-${randomUUID()}`, topics: /^connector\.order\.imported$/, fromBeginning: true },
    (message: IncomingMessage) =>
      Ref.update(seen, (all) => {
        try {
          const value = JSON.parse(message.value === null ? "null" : decoder.decode(message.value))
          return [...all, { topic: message.topic, key: message.key, value }]
        } catch {
          return all
        }
      })
  )
  const forConfig = (configId: string) =>
    Effect.map(Ref.get(seen), (all) => all.filter((m) => m.value?.data?.configId === configId))
  /**
   * At least `count` messages of the config (waiting for them), then a sentinel through the same
   * path: a row of the app's Kafka outbox (relayed in message_id order) on the same topic and key
   * (so the same partition). Whatever was committed for the config before it (an extra message, a
   * duplicate) reaches the tap before the sentinel does. `SqlClient`: the app's database.
   */
  const waitFor = (configId: string, count: number, within: `${number} seconds` = "20 seconds") =>
    Effect.gen(function*() {
      const messages = yield* eventually(forConfig(configId), (found) => found.length >= count, within)
      const sentinel = randomUUID()
      const sql = yield* SqlClient
      yield* sql`INSERT INTO kafka_outbox (topic, message_key, value)
                 VALUES (${importedTopic}, ${messages[0]!.key}, ${JSON.stringify({ sentinel })})`.pipe(Effect.orDie)
      yield* eventually(Ref.get(seen), (all) => all.some((m) => m.value?.sentinel === sentinel), within)
      return yield* forConfig(configId)
    })
  return { forConfig, waitFor }
})

/** `externalOrderId@updatedAt` of each imported message, in the order they came. */
export const changeKeys = (messages: ReadonlyArray<Published>) =>
  messages.map((m) => `${m.value.data.externalOrderId}@${m.value.data.updatedAt}`)
