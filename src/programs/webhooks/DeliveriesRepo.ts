import { SqlClient } from "@effect/sql/SqlClient"
import { DateTime, Effect, Encoding, Option, Schema } from "effect"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import {
  Delivery,
  DeliveryAttempt,
  DeliveryDetail,
  type DeliveryId,
  type DeliveryStatus,
  type SubscriptionId
} from "../../domain/webhooks/models.ts"

// ---------------------------------------------------------------------------
// Fan-out

/**
 * One delivery per matching active webhook subscription and per matching
 * active connector config of each event's store, for a whole batch of events
 * in one statement (one transaction, one round trip). The unique
 * (subscription_id, event_id) and (config_id, event_id) keys make a
 * re-consumed event a no-op. Returns the deliveries it created.
 */
export const insertDeliveriesForEvents = (events: ReadonlyArray<EventEnvelope>) =>
  Effect.flatMap(SqlClient, (sql) => {
    if (events.length === 0) return Effect.succeed([] as ReadonlyArray<DeliveryId>)
    const ids = events.map((e) => e.eventId)
    const types = events.map((e) => e.eventType)
    const stores = events.map((e) => e.storeId)
    const payloads = events.map((e) => JSON.stringify(e))
    return sql<{ delivery_id: DeliveryId }>`
      WITH e AS (
        SELECT * FROM UNNEST(${ids}::uuid[], ${types}::text[], ${stores}::text[], ${payloads}::text[])
          AS e(event_id, event_type, store_id, payload)
      ), webhooks AS (
        INSERT INTO webhook_deliveries
          (delivery_id, subscription_id, store_id, event_type, event_id, event_payload, next_retry_at)
        SELECT gen_random_uuid(), s.subscription_id, s.store_id, e.event_type, e.event_id, e.payload::jsonb, now()
        FROM e JOIN webhook_subscriptions s
          ON s.store_id = e.store_id AND s.is_active AND (e.event_type = ANY (s.events) OR '*' = ANY (s.events))
        ON CONFLICT (subscription_id, event_id) DO NOTHING
        RETURNING delivery_id
      ), connectors AS (
        INSERT INTO webhook_deliveries
          (delivery_id, config_id, store_id, event_type, event_id, event_payload, next_retry_at)
        SELECT gen_random_uuid(), c.config_id, c.store_id, e.event_type, e.event_id, e.payload::jsonb, now()
        FROM e JOIN connector_configs c
          ON c.store_id = e.store_id AND c.is_active AND e.event_type = ANY (c.event_subscriptions)
        ON CONFLICT (config_id, event_id) DO NOTHING
        RETURNING delivery_id
      )
      SELECT delivery_id FROM webhooks UNION ALL SELECT delivery_id FROM connectors`.pipe(
      Effect.map((rows) => rows.map((r) => r.delivery_id))
    )
  })

/** One event's deliveries (see `insertDeliveriesForEvents`). */
export const insertDeliveriesForEvent = (event: EventEnvelope) => insertDeliveriesForEvents([event])

// ---------------------------------------------------------------------------
// Claiming

/**
 * A delivery a worker holds a lease on, with what the attempt needs: a webhook
 * (subscription, URL, secret version) or a connector run (config).
 */
export const ClaimedDelivery = Schema.Struct({
  delivery_id: Schema.String,
  subscription_id: Schema.NullOr(Schema.String),
  config_id: Schema.NullOr(Schema.String),
  store_id: Schema.String,
  event_type: Schema.String,
  attempt_number: Schema.Number,
  /** The envelope as compact JSON: the exact bytes POSTed and signed (the same on every retry). */
  body: Schema.Unknown.pipe(Schema.transform(Schema.String, { decode: (json) => JSON.stringify(json), encode: (text) => JSON.parse(text) })),
  target_url: Schema.NullOr(Schema.String),
  secret_version: Schema.NullOr(Schema.Number)
})
export type ClaimedDelivery = typeof ClaimedDelivery.Type
const decodeClaimed = Schema.decodeUnknown(Schema.Array(ClaimedDelivery))

export interface ClaimOptions {
  /** Only these deliveries (the first attempt of new ones); otherwise any that are due. */
  readonly ids?: ReadonlyArray<DeliveryId>
  readonly limit: number
  /** How long the claim holds; past it, the sweeper hands the delivery out again. */
  readonly leaseSeconds: number
  /** The same for connector runs, which may take minutes (throttled marketplaces). */
  readonly connectorLeaseSeconds: number
}

/**
 * Claims waiting deliveries that are due: `FOR UPDATE SKIP LOCKED` lets any
 * number of workers, in this process or other instances, claim at once without
 * two of them getting the same row, and the lease keeps it theirs after commit.
 */
export const claimDeliveries = (options: ClaimOptions) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql`
      WITH due AS (
        -- Only deliveries whose subscription or config is active: a paused one's
        -- backlog must not fill the batch and starve everyone else's.
        SELECT d.delivery_id, s.target_url, s.secret_version FROM webhook_deliveries d
        LEFT JOIN webhook_subscriptions s ON s.subscription_id = d.subscription_id
        LEFT JOIN connector_configs c ON c.config_id = d.config_id
        WHERE d.status IN ('PENDING', 'FAILED') AND d.next_retry_at <= now() AND d.lease_expires_at IS NULL
          AND (s.is_active OR c.is_active)
          ${options.ids ? sql`AND d.delivery_id = ANY (${options.ids}::uuid[])` : sql``}
        ORDER BY d.next_retry_at
        LIMIT ${options.limit}
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE webhook_deliveries d
      SET lease_expires_at = now() + (CASE WHEN d.config_id IS NULL THEN ${options.leaseSeconds}::int
                                           ELSE ${options.connectorLeaseSeconds}::int END) * interval '1 second'
      FROM due
      WHERE d.delivery_id = due.delivery_id
      RETURNING d.delivery_id, d.subscription_id, d.config_id, d.store_id, d.event_type, d.attempt_number,
                d.event_payload AS body, due.target_url, due.secret_version`.pipe(
      Effect.flatMap((rows) => Effect.orDie(decodeClaimed(rows)))
    ))


/** Leases whose worker died (they expired): the deliveries wait again for the next claim. */
export const releaseExpiredLeases = Effect.flatMap(SqlClient, (sql) =>
  sql<{ delivery_id: string }>`
    UPDATE webhook_deliveries SET lease_expires_at = NULL
    WHERE lease_expires_at < now() AND status IN ('PENDING', 'FAILED')
    RETURNING delivery_id`.pipe(Effect.map((rows) => rows.length)))

// ---------------------------------------------------------------------------
// Recording attempts

export interface AttemptResult {
  readonly deliveryId: string
  /** Set for a webhook delivery… */
  readonly subscriptionId: string | null
  /** …or, for a connector run, what goes into its sync-log row. */
  readonly connector: { readonly configId: string; readonly entityType: string; readonly recordCount: number } | null
  readonly storeId: string
  readonly eventType: string
  /** The attempt just made (the claimed row's attempt_number + 1). */
  readonly attemptNumber: number
  readonly startedAt: Date
  readonly durationMs: number
  readonly httpStatus: number | null
  readonly responseBody: string | null
  readonly error: string | null
  readonly status: Exclude<DeliveryStatus, "PENDING">
  /** Milliseconds until the next attempt when `FAILED`. */
  readonly retryInMs: number | null
  /** Why it was dead-lettered, for `webhook.dead_lettered`. */
  readonly reason: string | null
}

export const deliveredTopic = "webhook.delivered"
export const deadLetteredTopic = "webhook.dead_lettered"

/**
 * Records a batch of attempts in one transaction: the deliveries' new state,
 * the attempt history, and the Kafka messages announcing deliveries and dead
 * letters (into the outbox, so they can't be lost between commit and publish).
 * A result whose delivery moved on meanwhile (re-triggered, or recorded by
 * another worker after a lease expired) is dropped: the attempt_number guard.
 */
export const recordAttempts = (results: ReadonlyArray<AttemptResult>) =>
  Effect.flatMap(SqlClient, (sql) => {
    if (results.length === 0) return Effect.succeed(0)
    const col = <A>(f: (r: AttemptResult) => A) => results.map(f)
    return sql.withTransaction(Effect.gen(function*() {
      const updated = yield* sql<{ delivery_id: string }>`
        UPDATE webhook_deliveries d SET
          status = u.status::webhook_delivery_status,
          attempt_number = u.attempt_number,
          http_status = u.http_status,
          response_body = u.response_body,
          next_retry_at = CASE WHEN u.retry_in_ms IS NULL THEN NULL
                               ELSE now() + u.retry_in_ms * interval '1 millisecond' END,
          delivered_at = CASE WHEN u.status = 'DELIVERED' THEN now() ELSE d.delivered_at END,
          lease_expires_at = NULL,
          updated_at = now()
        FROM UNNEST(${col((r) => r.deliveryId)}::uuid[], ${col((r) => r.status)}::text[],
                    ${col((r) => r.attemptNumber)}::int[], ${col((r) => r.httpStatus)}::int[],
                    ${col((r) => r.responseBody)}::text[], ${col((r) => r.retryInMs)}::bigint[])
             AS u(delivery_id, status, attempt_number, http_status, response_body, retry_in_ms)
        WHERE d.delivery_id = u.delivery_id AND d.attempt_number = u.attempt_number - 1
          AND d.status IN ('PENDING', 'FAILED')
        RETURNING d.delivery_id`
      const kept = new Set(updated.map((r) => r.delivery_id))
      const recorded = results.filter((r) => kept.has(r.deliveryId))
      if (recorded.length === 0) return 0
      const rec = <A>(f: (r: AttemptResult) => A) => recorded.map(f)
      yield* sql`
        INSERT INTO webhook_delivery_attempts
          (attempt_id, delivery_id, attempt_number, started_at, duration_ms, http_status, response_body, error)
        SELECT gen_random_uuid(), * FROM UNNEST(
          ${rec((r) => r.deliveryId)}::uuid[], ${rec((r) => r.attemptNumber)}::int[],
          ${rec((r) => r.startedAt.toISOString())}::timestamptz[], ${rec((r) => Math.round(r.durationMs))}::int[],
          ${rec((r) => r.httpStatus)}::int[], ${rec((r) => r.responseBody)}::text[], ${rec((r) => r.error)}::text[])`
      const runs = recorded.filter((r) => r.connector !== null)
      if (runs.length > 0) {
        const run = <A>(f: (r: AttemptResult) => A) => runs.map(f)
        yield* sql`
          INSERT INTO connector_sync_log
            (sync_id, config_id, store_id, direction, entity_type, record_count, status, error_summary, started_at, finished_at)
          SELECT gen_random_uuid(), u.config_id, u.store_id, 'OUTBOUND', u.entity_type, u.record_count,
                 u.status::connector_sync_status, u.error_summary, u.started_at, now()
          FROM UNNEST(${run((r) => r.connector!.configId)}::uuid[], ${run((r) => r.storeId)}::text[],
                      ${run((r) => r.connector!.entityType)}::text[], ${run((r) => r.connector!.recordCount)}::int[],
                      ${run((r) => (r.status === "DELIVERED" ? "SUCCEEDED" : "FAILED"))}::text[],
                      ${run((r) => r.error)}::text[], ${run((r) => r.startedAt.toISOString())}::timestamptz[])
               AS u(config_id, store_id, entity_type, record_count, status, error_summary, started_at)`
      }
      // Kafka announcements are for webhook deliveries only.
      const announced = recorded.filter((r) => r.status !== "FAILED" && r.subscriptionId !== null)
      if (announced.length > 0) {
        const messages = announced.map((r) =>
          r.status === "DELIVERED"
            ? {
              topic: deliveredTopic,
              value: { deliveryId: r.deliveryId, subscriptionId: r.subscriptionId, storeId: r.storeId, eventType: r.eventType }
            }
            : {
              topic: deadLetteredTopic,
              value: { deliveryId: r.deliveryId, subscriptionId: r.subscriptionId, storeId: r.storeId, reason: r.reason }
            }
        )
        yield* sql`
          INSERT INTO kafka_outbox (topic, message_key, value)
          SELECT * FROM UNNEST(${messages.map((m) => m.topic)}::text[], ${announced.map((r) => r.storeId)}::text[],
                               ${messages.map((m) => JSON.stringify(m.value))}::text[])`
      }
      return recorded.length
    }))
  })

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

// ---------------------------------------------------------------------------
// Outbox

/**
 * Publishes waiting outbox messages: rows are locked (SKIP LOCKED, so
 * instances share the work), published, then deleted in the same
 * transaction; a failed publish rolls back and they wait for the next round.
 */
export const relayOutbox = <E, R>(
  limit: number,
  publish: (messages: ReadonlyArray<{ topic: string; key: string | null; value: string }>) => Effect.Effect<void, E, R>
) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      const rows = yield* sql<{ message_id: string; topic: string; message_key: string | null; value: string }>`
        SELECT message_id, topic, message_key, value FROM kafka_outbox
        ORDER BY message_id LIMIT ${limit} FOR UPDATE SKIP LOCKED`
      if (rows.length === 0) return 0
      yield* publish(rows.map((r) => ({ topic: r.topic, key: r.message_key, value: r.value })))
      yield* sql`DELETE FROM kafka_outbox WHERE message_id = ANY (${rows.map((r) => r.message_id)}::bigint[])`
      return rows.length
    })))
