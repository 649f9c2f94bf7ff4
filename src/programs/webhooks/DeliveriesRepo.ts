import { SqlClient } from "@effect/sql/SqlClient"
import { DateTime, Effect, Encoding, Option, Schema } from "effect"
import {
  Delivery,
  DeliveryAttempt,
  DeliveryDetail,
  type DeliveryId,
  type DeliveryStatus,
  type SubscriptionId
} from "../../domain/webhooks/models.ts"

// ---------------------------------------------------------------------------
// Admin: listing, detail, re-trigger

const DeliveryRow = Schema.Struct({
  delivery_id: Schema.String,
  subscription_id: Schema.String,
  store_id: Schema.String,
  event_type: Schema.String,
  event_id: Schema.String,
  status: Schema.Literal("PENDING", "DELIVERED", "FAILED", "DEAD_LETTERED"),
  attempt_number: Schema.Number,
  http_status: Schema.NullOr(Schema.Number),
  response_body: Schema.NullOr(Schema.String),
  next_retry_at: Schema.NullOr(Schema.DateFromSelf),
  delivered_at: Schema.NullOr(Schema.DateFromSelf),
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf,
  cursor_ts: Schema.String
})
type DeliveryRow = typeof DeliveryRow.Type
const decodeDeliveryRows = Schema.decodeUnknown(Schema.Array(DeliveryRow))

const utc = (date: Date) => DateTime.unsafeMake(date)
const toDelivery = (row: DeliveryRow) =>
  Delivery.make({
    id: row.delivery_id as DeliveryId,
    subscriptionId: row.subscription_id as SubscriptionId,
    storeId: row.store_id,
    eventType: row.event_type,
    eventId: row.event_id,
    status: row.status,
    attemptNumber: row.attempt_number,
    httpStatus: row.http_status,
    responseBody: row.response_body,
    nextRetryAt: row.next_retry_at ? utc(row.next_retry_at) : null,
    deliveredAt: row.delivered_at ? utc(row.delivered_at) : null,
    createdAt: utc(row.created_at),
    updatedAt: utc(row.updated_at)
  })

const deliveryColumns = `delivery_id, subscription_id, store_id, event_type, event_id, status::text AS status,
  attempt_number, http_status, response_body, next_retry_at, delivered_at, created_at, updated_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_ts`

/** Keyset cursor: the last row's exact created_at (microseconds, as this API writes it) and id. */
const Cursor = Schema.Tuple(
  Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/), Schema.filter((t) => !Number.isNaN(Date.parse(t)))),
  Schema.UUID
)
const encodeCursor = (row: DeliveryRow) =>
  Encoding.encodeBase64Url(JSON.stringify([row.cursor_ts, row.delivery_id]))
const decodeCursor = (cursor: string) =>
  Encoding.decodeBase64UrlString(cursor).pipe(
    Option.getRight,
    Option.flatMap(Schema.decodeUnknownOption(Schema.parseJson(Cursor)))
  )

export class InvalidCursor extends Schema.TaggedError<InvalidCursor>()("InvalidCursor", {}) {}

export interface DeliveryQuery {
  readonly status?: DeliveryStatus | undefined
  readonly subscriptionId?: string | undefined
  readonly eventType?: string | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

export const listDeliveries = (storeId: string, query: DeliveryQuery) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const limit = query.limit ?? 50
    const after = query.cursor === undefined ? Option.none() : decodeCursor(query.cursor)
    if (query.cursor !== undefined && Option.isNone(after)) return yield* new InvalidCursor()
    const rows = yield* sql`
      SELECT ${sql.literal(deliveryColumns)} FROM webhook_deliveries
      WHERE ${
      sql.and([
        sql`store_id = ${storeId}`,
        sql`subscription_id IS NOT NULL`,
        ...(query.status ? [sql`status = ${query.status}::webhook_delivery_status`] : []),
        ...(query.subscriptionId ? [sql`subscription_id = ${query.subscriptionId}::uuid`] : []),
        ...(query.eventType ? [sql`event_type = ${query.eventType}`] : []),
        ...Option.match(after, {
          onNone: () => [],
          onSome: ([ts, id]) => [sql`(created_at, delivery_id) < (${ts}::timestamptz, ${id}::uuid)`]
        })
      ])
    }
      ORDER BY created_at DESC, delivery_id DESC
      LIMIT ${limit + 1}`.pipe(Effect.flatMap(decodeDeliveryRows), Effect.orDie)
    const page = rows.slice(0, limit)
    return {
      items: page.map(toDelivery),
      nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null
    }
  })

const AttemptRow = Schema.Struct({
  attempt_number: Schema.Number,
  started_at: Schema.DateFromSelf,
  duration_ms: Schema.Number,
  http_status: Schema.NullOr(Schema.Number),
  response_body: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
})
const decodeAttemptRows = Schema.decodeUnknown(Schema.Array(AttemptRow))

export const findDelivery = (storeId: string, id: DeliveryId) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql`
      SELECT ${sql.literal(deliveryColumns)}, event_payload FROM webhook_deliveries
      WHERE store_id = ${storeId} AND delivery_id = ${id} AND subscription_id IS NOT NULL`.pipe(Effect.orDie)
    const row = rows[0]
    if (row === undefined) return Option.none<DeliveryDetail>()
    const [delivery] = yield* decodeDeliveryRows([row]).pipe(Effect.orDie)
    const attempts = yield* sql`
      SELECT attempt_number, started_at, duration_ms, http_status, response_body, error
      FROM webhook_delivery_attempts WHERE delivery_id = ${id} ORDER BY started_at, attempt_number`.pipe(
      Effect.flatMap(decodeAttemptRows),
      Effect.orDie
    )
    return Option.some(DeliveryDetail.make({
      ...toDelivery(delivery!),
      payload: row["event_payload"],
      attempts: attempts.map((a) =>
        DeliveryAttempt.make({
          attemptNumber: a.attempt_number,
          startedAt: utc(a.started_at),
          durationMs: a.duration_ms,
          httpStatus: a.http_status,
          responseBody: a.response_body,
          error: a.error
        })
      )
    }))
  })

/** Re-trigger outcomes: the delivery, or why it can't be re-triggered. */
export type RetryOutcome =
  | { readonly _tag: "Retried"; readonly delivery: Delivery }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "NotRetriable"; readonly status: DeliveryStatus }
  /** A worker holds it (an attempt is in flight): re-triggering now would overlap it. */
  | { readonly _tag: "InFlight" }

/**
 * A failed or dead-lettered delivery starts a fresh cycle: attempt now, then
 * the retry table. Earlier attempts stay in the history.
 */
export const retryDelivery = (storeId: string, id: DeliveryId) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql`
      UPDATE webhook_deliveries SET status = 'PENDING', attempt_number = 0, next_retry_at = now(),
             lease_expires_at = NULL, updated_at = now()
      WHERE store_id = ${storeId} AND delivery_id = ${id} AND status IN ('FAILED', 'DEAD_LETTERED')
        AND subscription_id IS NOT NULL AND lease_expires_at IS NULL
      RETURNING ${sql.literal(deliveryColumns)}`.pipe(Effect.flatMap(decodeDeliveryRows), Effect.orDie)
    if (rows[0]) return { _tag: "Retried", delivery: toDelivery(rows[0]) } satisfies RetryOutcome as RetryOutcome
    const existing = yield* sql<{ status: DeliveryStatus; leased: boolean }>`
      SELECT status::text AS status, lease_expires_at IS NOT NULL AS leased FROM webhook_deliveries
      WHERE store_id = ${storeId} AND delivery_id = ${id} AND subscription_id IS NOT NULL`.pipe(
      Effect.orDie
    )
    const row = existing[0]
    if (row === undefined) return { _tag: "NotFound" } as RetryOutcome
    return (row.leased && row.status === "FAILED" ? { _tag: "InFlight" } : { _tag: "NotRetriable", status: row.status }) as RetryOutcome
  })

export interface BulkRetryFilter {
  readonly status: "DEAD_LETTERED" | "FAILED"
  readonly since?: Date | undefined
  readonly subscriptionId?: string | undefined
}

/** Bulk replay: every matching delivery of the store starts a fresh cycle. Returns their ids. */
export const retryDeliveries = (storeId: string, filter: BulkRetryFilter) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ delivery_id: DeliveryId }>`
      UPDATE webhook_deliveries SET status = 'PENDING', attempt_number = 0, next_retry_at = now(),
             lease_expires_at = NULL, updated_at = now()
      WHERE ${
      sql.and([
        sql`store_id = ${storeId}`,
        sql`subscription_id IS NOT NULL`,
        // Ones with an attempt in flight are left to finish it (and follow the table).
        sql`lease_expires_at IS NULL`,
        sql`status = ${filter.status}::webhook_delivery_status`,
        ...(filter.since ? [sql`created_at >= ${filter.since.toISOString()}::timestamptz`] : []),
        ...(filter.subscriptionId ? [sql`subscription_id = ${filter.subscriptionId}::uuid`] : [])
      ])
    }
      RETURNING delivery_id`.pipe(Effect.orDie, Effect.map((rows) => rows.map((r) => r.delivery_id))))
