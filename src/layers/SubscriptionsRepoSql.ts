import { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import { healthState } from "../domain/webhooks/breaker.ts"
import { defaultMaxInFlight, Subscription, type SubscriptionId } from "../domain/webhooks/models.ts"
import { PersistenceError } from "../services/Persistence.ts"
import { type StoredSubscription, SubscriptionsRepo } from "../services/SubscriptionsRepo.ts"
import { StoreRowColumns } from "../domain/rows.ts"
import { decodeRows, inTransaction, persistence } from "./sqlErrors.ts"

/** A `webhook_subscriptions` row as PostgreSQL (or PGlite) returns it. */
const Row = Schema.Struct({
  subscription_id: Schema.String,
  name: Schema.String,
  target_url: Schema.String,
  events: Schema.Array(Schema.String),
  is_active: Schema.Boolean,
  disabled_reason: Schema.NullOr(Schema.String),
  max_in_flight: Schema.Number,
  consecutive_failures: Schema.Number,
  last_success_at: Schema.NullOr(Schema.DateFromSelf),
  last_failure_at: Schema.NullOr(Schema.DateFromSelf),
  paused_until: Schema.NullOr(Schema.DateFromSelf),
  backlog: Schema.Number,
  secret_version: Schema.Number,
  ...StoreRowColumns
})
type Row = typeof Row.Type

const toSubscription = (row: Row): StoredSubscription => ({
  subscription: Subscription.make({
    id: row.subscription_id as SubscriptionId,
    storeId: row.store_id,
    name: row.name,
    targetUrl: row.target_url,
    events: row.events,
    isActive: row.is_active,
    disabledReason: row.disabled_reason,
    maxInFlight: row.max_in_flight,
    health: {
      state: healthState({ isActive: row.is_active, pausedUntil: row.paused_until, consecutiveFailures: row.consecutive_failures }),
      consecutiveFailures: row.consecutive_failures,
      lastSuccessAt: row.last_success_at === null ? null : DateTime.unsafeMake(row.last_success_at),
      lastFailureAt: row.last_failure_at === null ? null : DateTime.unsafeMake(row.last_failure_at),
      backlog: row.backlog
    },
    createdAt: DateTime.unsafeMake(row.created_at),
    updatedAt: DateTime.unsafeMake(row.updated_at)
  }),
  secretVersion: row.secret_version
})

// The backlog: one probe of the waiting-deliveries index per subscription.
const columns = `subscription_id::text AS subscription_id, store_id, name, target_url, events, is_active, disabled_reason, max_in_flight, secret_version,
  consecutive_failures, last_success_at, last_failure_at, paused_until,
  (SELECT count(*)::int FROM webhook_deliveries w WHERE w.subscription_id = webhook_subscriptions.subscription_id
     AND w.status IN ('PENDING', 'FAILED')) AS backlog,
  created_at, updated_at`

export const makeSubscriptionsRepoSql = Effect.gen(function*() {
  const sql = yield* SqlClient
  const decode = decodeRows(Row, "read webhook subscriptions")
  const many = (operation: string) => (query: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
    query.pipe(persistence(operation), Effect.flatMap(decode), Effect.map((rows) => rows.map(toSubscription)))
  const one = (operation: string) => (query: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
    many(operation)(query).pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

  const recover = (storeId: string, id: SubscriptionId, since: Date) =>
    inTransaction(sql, "recover a subscription")(Effect.gen(function*() {
      const switchedOn = yield* sql`
        UPDATE webhook_subscriptions SET is_active = true, disabled_reason = NULL, disabled_at = NULL,
          consecutive_failures = 0, failing_since = NULL, paused_until = NULL, updated_at = now()
        WHERE store_id = ${storeId} AND subscription_id = ${id}
        RETURNING subscription_id`.pipe(persistence("recover a subscription"))
      if (switchedOn.length === 0) return Option.none()
      const queued = yield* sql<{ delivery_id: string }>`
        UPDATE webhook_deliveries SET status = 'PENDING', cycle_attempts = 0, replay = true, next_retry_at = now(),
               updated_at = now()
        WHERE subscription_id = ${id} AND store_id = ${storeId} AND created_at >= ${since.toISOString()}::timestamptz
          AND status IN ('FAILED', 'DEAD_LETTERED') AND lease_expires_at IS NULL
        RETURNING delivery_id::text AS delivery_id`.pipe(persistence("recover deliveries"))
      return Option.some(queued.map((r) => r.delivery_id))
    }))

  return SubscriptionsRepo.of({
    recover,
    insert: (s) =>
      one("create a subscription")(sql`
        INSERT INTO webhook_subscriptions (subscription_id, store_id, name, target_url, events, is_active, max_in_flight)
        VALUES (${s.id}, ${s.storeId}, ${s.name}, ${s.targetUrl}, ${s.events}, ${s.isActive},
                ${s.maxInFlight ?? defaultMaxInFlight})
        RETURNING ${sql.literal(columns)}`).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new PersistenceError({ kind: "Rejected", operation: "create a subscription", detail: "no row returned" })),
          onSome: Effect.succeed
        }))
      ),
    list: (storeId) =>
      many("list subscriptions")(sql`
        SELECT ${sql.literal(columns)} FROM webhook_subscriptions
        WHERE store_id = ${storeId} ORDER BY created_at DESC, subscription_id DESC`),
    find: (storeId, id) =>
      one("find a subscription")(sql`
        SELECT ${sql.literal(columns)} FROM webhook_subscriptions WHERE store_id = ${storeId} AND subscription_id = ${id}`),
    update: (storeId, id, patch) =>
      one("update a subscription")(sql`
        UPDATE webhook_subscriptions SET
          name = COALESCE(${patch.name ?? null}, name),
          target_url = COALESCE(${patch.targetUrl ?? null}, target_url),
          events = COALESCE(${patch.events ?? null}::text[], events),
          is_active = COALESCE(${patch.isActive ?? null}::boolean, is_active),
          max_in_flight = COALESCE(${patch.maxInFlight ?? null}::int, max_in_flight),
          -- Switched on again by an admin: the engine's reason for switching it off, and the
          -- failures that led there, are history (the breaker starts closed).
          disabled_reason = CASE WHEN ${patch.isActive ?? null}::boolean THEN NULL ELSE disabled_reason END,
          disabled_at = CASE WHEN ${patch.isActive ?? null}::boolean THEN NULL ELSE disabled_at END,
          consecutive_failures = CASE WHEN ${patch.isActive ?? null}::boolean AND NOT is_active THEN 0 ELSE consecutive_failures END,
          failing_since = CASE WHEN ${patch.isActive ?? null}::boolean AND NOT is_active THEN NULL ELSE failing_since END,
          paused_until = CASE WHEN ${patch.isActive ?? null}::boolean AND NOT is_active THEN NULL ELSE paused_until END,
          updated_at = now()
        WHERE store_id = ${storeId} AND subscription_id = ${id}
        RETURNING ${sql.literal(columns)}`),
    remove: (storeId, id) =>
      sql`DELETE FROM webhook_subscriptions WHERE store_id = ${storeId} AND subscription_id = ${id}
          RETURNING subscription_id`.pipe(persistence("delete a subscription"), Effect.map((rows) => rows.length > 0)),
    bumpSecretVersion: (storeId, id, overlapSeconds) =>
      one("rotate a signing secret")(sql`
        UPDATE webhook_subscriptions SET secret_version = secret_version + 1, updated_at = now(),
          previous_secret_until = CASE WHEN ${overlapSeconds}::int > 0
                                       THEN now() + ${overlapSeconds}::int * interval '1 second' END
        WHERE store_id = ${storeId} AND subscription_id = ${id}
        RETURNING ${sql.literal(columns)}`)
  })
})

export const SubscriptionsRepoSql = Layer.effect(SubscriptionsRepo, makeSubscriptionsRepoSql)
