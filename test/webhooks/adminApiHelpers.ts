/**
 * Shared pieces of the admin API tests (subscriptionsApi, validation,
 * deliveriesApi, targetUrl, storeIsolation): raw requests (any headers, any
 * body text), subscriptions created through the API, and delivery rows written
 * straight into PostgreSQL so listings and re-triggers can be tested with exact
 * timestamps and statuses.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { expect } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { Vault } from "../../src/services/Vault.ts"
import { adminFetch, baseUrl } from "../support/app.ts"

export const newStoreId = (label = "store") => `${label}-${randomUUID().slice(0, 12)}`

/** fetch() against the test app with whatever headers and body text the test wants. */
export const rawFetch = (
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {}
) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    const response = yield* Effect.promise(() =>
      fetch(`${base}${path}`, {
        method: init.method ?? "GET",
        headers: init.headers ?? {},
        ...(init.body === undefined ? {} : { body: init.body })
      })
    )
    const text = yield* Effect.promise(() => response.text())
    let body: any = undefined
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      body = text
    }
    return { status: response.status, body, headers: response.headers }
  })

export interface CreatedSubscription {
  readonly id: string
  readonly storeId: string
  readonly name: string
  readonly targetUrl: string
  readonly events: Array<string>
  readonly isActive: boolean
  readonly createdAt: string
  readonly updatedAt: string
  readonly signingSecret: string
}

/** Creates a subscription through the API (asserting the 201) and returns the response body. */
export const createSubscription = (
  storeId: string,
  body: { name?: string; targetUrl?: string; events?: ReadonlyArray<string>; isActive?: boolean } = {}
) =>
  Effect.gen(function*() {
    const response = yield* adminFetch(`/stores/${storeId}/webhooks`, {
      method: "POST",
      body: {
        name: "orders",
        targetUrl: "https://hooks.example.com/ss3",
        events: ["order.placed"],
        ...body
      }
    })
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    return response.body as CreatedSubscription
  })

export const secretPath = (subscriptionId: string) => `integration-service/webhook/${subscriptionId}`

/** The signing secret Vault holds for a subscription, if any. */
export const vaultSecret = (subscriptionId: string) =>
  Effect.gen(function*() {
    const vault = yield* Vault
    const data = yield* vault.read(secretPath(subscriptionId))
    return Option.flatMap(data, (d) => Option.fromNullable(d["secret"])).pipe(Option.map(Redacted.value))
  })

/** The subscription's row as PostgreSQL has it (and the whole row as text), or undefined. */
export const subscriptionRow = (subscriptionId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{
      row: string
      secret_version: number
      name: string
      target_url: string
      events: Array<string>
      is_active: boolean
      updated_at: Date
    }>`
      SELECT s::text AS row, s.secret_version, s.name, s.target_url, s.events, s.is_active, s.updated_at
      FROM webhook_subscriptions s WHERE s.subscription_id = ${subscriptionId}`
    return rows[0]
  })

export type DeliveryStatus = "PENDING" | "DELIVERED" | "FAILED" | "DEAD_LETTERED"

export interface DeliveryRowInput {
  readonly subscriptionId: string
  readonly storeId: string
  readonly status?: DeliveryStatus
  readonly eventType?: string
  /** ISO-8601; default: the insert's clock time. */
  readonly createdAt?: string
  readonly attemptNumber?: number
  /** Default: none, so the delivery workers never claim the row: the test decides its state. */
  readonly nextRetryAt?: string | null
}

/** A delivery row written straight into PostgreSQL. */
export const insertDelivery = (input: DeliveryRowInput) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const id = randomUUID()
    const eventId = randomUUID()
    const eventType = input.eventType ?? "order.placed"
    const envelope = {
      eventId,
      eventType,
      storeId: input.storeId,
      occurredAt: new Date().toISOString(),
      data: { orderId: `o-${id.slice(0, 6)}` }
    }
    const status = input.status ?? "DEAD_LETTERED"
    const attemptNumber = input.attemptNumber ??
      (status === "PENDING" ? 0 : status === "DEAD_LETTERED" ? 5 : 1)
    yield* sql`
      INSERT INTO webhook_deliveries
        (delivery_id, subscription_id, store_id, event_type, event_id, event_payload, status,
         attempt_number, cycle_attempts, next_retry_at, created_at, updated_at, http_status)
      VALUES (${id}, ${input.subscriptionId}, ${input.storeId}, ${eventType}, ${eventId},
              ${JSON.stringify(envelope)}::jsonb, ${status}::webhook_delivery_status, ${attemptNumber}, ${attemptNumber},
              ${input.nextRetryAt ?? null}::timestamptz,
              COALESCE(${input.createdAt ?? null}::timestamptz, clock_timestamp()),
              COALESCE(${input.createdAt ?? null}::timestamptz, clock_timestamp()),
              ${status === "DELIVERED" ? 200 : status === "PENDING" ? null : 500}::int)`
    return { id, eventId, envelope }
  })

/** An attempt history row for a delivery. */
export const insertAttempt = (
  deliveryId: string,
  attemptNumber: number,
  startedAt: string,
  httpStatus: number | null,
  error: string | null
) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql`
      INSERT INTO webhook_delivery_attempts
        (attempt_id, delivery_id, attempt_number, started_at, duration_ms, http_status, response_body, error)
      VALUES (${randomUUID()}, ${deliveryId}, ${attemptNumber}, ${startedAt}::timestamptz, 12, ${httpStatus}::int,
              ${httpStatus === null ? null : "upstream says no"}::text, ${error}::text)`)

/** The delivery's row as PostgreSQL has it, or undefined. */
export const deliveryRow = (deliveryId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{
      status: DeliveryStatus
      attempt_number: number
      next_retry_at: Date | null
      updated_at: Date
      row: string
    }>`
      SELECT status::text AS status, attempt_number, next_retry_at, updated_at, d::text AS row
      FROM webhook_deliveries d WHERE delivery_id = ${deliveryId}`
    return rows[0]
  })

/** How many attempts the history holds for a delivery. */
export const attemptCount = (deliveryId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_delivery_attempts WHERE delivery_id = ${deliveryId}`.pipe(
      Effect.map((rows) => rows[0]!.n)
    ))
