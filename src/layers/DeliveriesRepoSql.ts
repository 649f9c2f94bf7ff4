import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Encoding, Layer, Option, Schema } from "effect"
import {
  type BulkRetryFilter,
  type DeliveriesRepoShape,
  DeliveriesRepo,
  type DeliveryRecord,
  type DeliveryTarget,
  InvalidCursor,
  type RetryOutcome
} from "../services/DeliveriesRepo.ts"
import { StoreRowColumns } from "../domain/rows.ts"
import { decodeRows, persistence } from "./sqlErrors.ts"

const Row = Schema.Struct({
  delivery_id: Schema.String,
  subscription_id: Schema.NullOr(Schema.String),
  config_id: Schema.NullOr(Schema.String),
  event_type: Schema.String,
  event_id: Schema.String,
  status: Schema.Literal("PENDING", "DELIVERED", "FAILED", "DEAD_LETTERED"),
  attempt_number: Schema.Number,
  http_status: Schema.NullOr(Schema.Number),
  response_body: Schema.NullOr(Schema.String),
  next_retry_at: Schema.NullOr(Schema.DateFromSelf),
  delivered_at: Schema.NullOr(Schema.DateFromSelf),
  cursor_ts: Schema.String,
  ...StoreRowColumns
})
type Row = typeof Row.Type

const AttemptRow = Schema.Struct({
  attempt_number: Schema.Number,
  started_at: Schema.DateFromSelf,
  duration_ms: Schema.Number,
  http_status: Schema.NullOr(Schema.Number),
  response_body: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
})

const toRecord = (row: Row): DeliveryRecord => ({
  id: row.delivery_id,
  subscriptionId: row.subscription_id,
  configId: row.config_id,
  storeId: row.store_id,
  eventType: row.event_type,
  eventId: row.event_id,
  status: row.status,
  attemptNumber: row.attempt_number,
  httpStatus: row.http_status,
  responseBody: row.response_body,
  nextRetryAt: row.next_retry_at,
  deliveredAt: row.delivered_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at
})

const columns = `delivery_id::text AS delivery_id, subscription_id::text AS subscription_id, config_id::text AS config_id,
  store_id, event_type, event_id::text AS event_id, status::text AS status, attempt_number, http_status, response_body,
  next_retry_at, delivered_at, created_at, updated_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_ts`

/** Keyset cursor: the last row's exact created_at (microseconds, as this API writes it) and id. */
const Cursor = Schema.Tuple(
  Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/), Schema.filter((t) => !Number.isNaN(Date.parse(t)))),
  Schema.UUID
)
const encodeCursor = (row: Row) => Encoding.encodeBase64Url(JSON.stringify([row.cursor_ts, row.delivery_id]))
const decodeCursor = (cursor: string) =>
  Encoding.decodeBase64UrlString(cursor).pipe(
    Option.getRight,
    Option.flatMap(Schema.decodeUnknownOption(Schema.parseJson(Cursor)))
  )

export const makeDeliveriesRepoSql = Effect.gen(function*() {
  const sql = yield* SqlClient
  const rows = decodeRows(Row, "read deliveries")
  const attemptRows = decodeRows(AttemptRow, "read attempts")

  /** The store, and the kind of target: a request can never reach another store's or another target's rows. */
  const scope = (storeId: string, target: DeliveryTarget) => [
    sql`store_id = ${storeId}`,
    target.kind === "webhooks" ? sql`subscription_id IS NOT NULL` : sql`config_id = ${target.configId}::uuid`
  ]

  const list: DeliveriesRepoShape["list"] = (storeId, target, query) =>
    Effect.gen(function*() {
      const limit = query.limit ?? 50
      const after = query.cursor === undefined ? Option.none() : decodeCursor(query.cursor)
      if (query.cursor !== undefined && Option.isNone(after)) return yield* new InvalidCursor()
      const found = yield* sql`
        SELECT ${sql.literal(columns)} FROM webhook_deliveries
        WHERE ${
        sql.and([
          ...scope(storeId, target),
          ...(query.status ? [sql`status = ${query.status}::webhook_delivery_status`] : []),
          ...(query.subscriptionId ? [sql`subscription_id = ${query.subscriptionId}::uuid`] : []),
          ...(query.eventType ? [sql`event_type = ${query.eventType}`] : []),
          ...(query.since ? [sql`created_at >= ${query.since.toISOString()}::timestamptz`] : []),
          ...(query.until ? [sql`created_at < ${query.until.toISOString()}::timestamptz`] : []),
          ...Option.match(after, {
            onNone: () => [],
            onSome: ([ts, id]) => [sql`(created_at, delivery_id) < (${ts}::timestamptz, ${id}::uuid)`]
          })
        ])
      }
        ORDER BY created_at DESC, delivery_id DESC
        LIMIT ${limit + 1}`.pipe(persistence("list deliveries"), Effect.flatMap(rows))
      const page = found.slice(0, limit)
      return {
        items: page.map(toRecord),
        nextCursor: found.length > limit ? encodeCursor(page[page.length - 1]!) : null
      }
    })

  const find: DeliveriesRepoShape["find"] = (storeId, target, id) =>
    Effect.gen(function*() {
      const found = yield* sql<Record<string, unknown>>`
        SELECT ${sql.literal(columns)}, event_payload FROM webhook_deliveries
        WHERE ${sql.and([...scope(storeId, target), sql`delivery_id = ${id}::uuid`])}`.pipe(persistence("find a delivery"))
      const raw = found[0]
      if (raw === undefined) return Option.none()
      const [row] = yield* rows([raw])
      const attempts = yield* sql`
        SELECT attempt_number, started_at, duration_ms, http_status, response_body, error
        FROM webhook_delivery_attempts WHERE delivery_id = ${id}::uuid ORDER BY started_at, attempt_number`.pipe(
        persistence("read attempts"),
        Effect.flatMap(attemptRows)
      )
      return Option.some({
        delivery: toRecord(row!),
        payload: raw["event_payload"],
        attempts: attempts.map((a) => ({
          attemptNumber: a.attempt_number,
          startedAt: a.started_at,
          durationMs: a.duration_ms,
          httpStatus: a.http_status,
          responseBody: a.response_body,
          error: a.error
        }))
      })
    })

  const retry: DeliveriesRepoShape["retry"] = (storeId, target, id) =>
    Effect.gen(function*() {
      const updated = yield* sql`
        UPDATE webhook_deliveries SET status = 'PENDING', cycle_attempts = 0, replay = true, next_retry_at = now(),
               lease_expires_at = NULL, lease_owner = NULL, updated_at = now()
        WHERE ${sql.and([...scope(storeId, target), sql`delivery_id = ${id}::uuid`])}
          AND status IN ('FAILED', 'DEAD_LETTERED') AND lease_expires_at IS NULL
        RETURNING ${sql.literal(columns)}`.pipe(persistence("re-trigger a delivery"), Effect.flatMap(rows))
      if (updated[0]) return { _tag: "Retried", delivery: toRecord(updated[0]) } satisfies RetryOutcome
      const existing = yield* sql<{ status: DeliveryRecord["status"]; leased: boolean }>`
        SELECT status::text AS status, lease_expires_at IS NOT NULL AS leased FROM webhook_deliveries
        WHERE ${sql.and([...scope(storeId, target), sql`delivery_id = ${id}::uuid`])}`.pipe(persistence("re-trigger a delivery"))
      const row = existing[0]
      if (row === undefined) return { _tag: "NotFound" } satisfies RetryOutcome
      return row.leased && row.status === "FAILED"
        ? { _tag: "InFlight" } satisfies RetryOutcome
        : { _tag: "NotRetriable", status: row.status } satisfies RetryOutcome
    })

  /** The deliveries a bulk re-trigger takes: the same conditions for the count and the update. */
  const retriable = (storeId: string, target: DeliveryTarget, filter: BulkRetryFilter) =>
    sql.and([
      ...scope(storeId, target),
      // Ones with an attempt in flight are left to finish it (and follow the table).
      sql`lease_expires_at IS NULL`,
      sql`status = ${filter.status}::webhook_delivery_status`,
      ...(filter.since ? [sql`created_at >= ${filter.since.toISOString()}::timestamptz`] : []),
      ...(filter.subscriptionId ? [sql`subscription_id = ${filter.subscriptionId}::uuid`] : [])
    ])

  const countRetriable: DeliveriesRepoShape["countRetriable"] = (storeId, target, filter) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE ${retriable(storeId, target, filter)}`.pipe(
      persistence("count deliveries to re-trigger"),
      Effect.map((found) => found[0]?.n ?? 0)
    )

  const retryMany: DeliveriesRepoShape["retryMany"] = (storeId, target, filter) =>
    sql<{ delivery_id: string }>`
      UPDATE webhook_deliveries SET status = 'PENDING', cycle_attempts = 0, replay = true, next_retry_at = now(),
             lease_expires_at = NULL, lease_owner = NULL, updated_at = now()
      WHERE ${retriable(storeId, target, filter)}
      RETURNING delivery_id::text AS delivery_id`.pipe(
      persistence("re-trigger deliveries"),
      Effect.map((updated) => updated.map((r) => r.delivery_id))
    )

  const stats: DeliveriesRepoShape["stats"] = (storeId, minutes, subscriptionId) =>
    Effect.gen(function*() {
      const target = subscriptionId === undefined
        ? sql`subscription_id IS NOT NULL`
        : sql`subscription_id = ${subscriptionId}::uuid`
      const [window] = yield* sql<{ since: Date }>`SELECT date_trunc('minute', now()) - (${minutes}::int - 1) * interval '1 minute' AS since`.pipe(
        persistence("delivery stats")
      )
      const since = window!.since
      // An attempt in the window was recorded in it too, so updated_at narrows the deliveries read.
      const perMinute = yield* sql<{ minute: Date; delivered: number; failed: number; dead_lettered: number }>`
        WITH recent AS (
          SELECT delivery_id, status, updated_at FROM webhook_deliveries
          WHERE store_id = ${storeId} AND ${target} AND updated_at >= ${since}
        ), attempts AS (
          SELECT date_trunc('minute', a.started_at) AS minute,
                 count(*) FILTER (WHERE a.http_status BETWEEN 200 AND 299)::int AS delivered,
                 count(*) FILTER (WHERE a.http_status IS NULL OR a.http_status NOT BETWEEN 200 AND 299)::int AS failed
          FROM webhook_delivery_attempts a JOIN recent r USING (delivery_id)
          WHERE a.started_at >= ${since}
          GROUP BY 1
        ), dead AS (
          SELECT date_trunc('minute', updated_at) AS minute, count(*)::int AS dead_lettered
          FROM recent WHERE status = 'DEAD_LETTERED' GROUP BY 1
        )
        SELECT coalesce(a.minute, d.minute) AS minute, coalesce(a.delivered, 0) AS delivered,
               coalesce(a.failed, 0) AS failed, coalesce(d.dead_lettered, 0) AS dead_lettered
        FROM attempts a FULL JOIN dead d ON d.minute = a.minute
        ORDER BY 1`.pipe(persistence("delivery stats"))
      const [waiting] = yield* sql<{ pending: number; failed: number; oldest_due_at: Date | null; dead_24h: number }>`
        SELECT count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
               count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
               min(next_retry_at) FILTER (WHERE status IN ('PENDING', 'FAILED')) AS oldest_due_at,
               count(*) FILTER (WHERE status = 'DEAD_LETTERED' AND updated_at >= now() - interval '24 hours')::int AS dead_24h
        FROM webhook_deliveries
        WHERE store_id = ${storeId} AND ${target}
          AND (status IN ('PENDING', 'FAILED') OR updated_at >= now() - interval '24 hours')`.pipe(persistence("delivery stats"))
      return {
        since,
        perMinute: perMinute.map((m) => ({ minute: m.minute, delivered: m.delivered, failed: m.failed, deadLettered: m.dead_lettered })),
        backlog: { pending: waiting!.pending, failed: waiting!.failed, oldestDueAt: waiting!.oldest_due_at },
        deadLetteredLast24h: waiting!.dead_24h
      }
    })

  return DeliveriesRepo.of({ list, find, retry, retryMany, countRetriable, stats })
})

export const DeliveriesRepoSql = Layer.effect(DeliveriesRepo, makeDeliveriesRepoSql)
