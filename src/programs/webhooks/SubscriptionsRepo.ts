import { SqlClient } from "@effect/sql/SqlClient"
import { DateTime, Effect, Option, Schema } from "effect"
import { Subscription, type SubscriptionId } from "../../domain/webhooks/models.ts"

/** A `webhook_subscriptions` row as PostgreSQL (or PGlite) returns it. */
const Row = Schema.Struct({
  subscription_id: Schema.String,
  store_id: Schema.String,
  name: Schema.String,
  target_url: Schema.String,
  events: Schema.Array(Schema.String),
  is_active: Schema.Boolean,
  secret_version: Schema.Number,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
})
type Row = typeof Row.Type
const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

export interface StoredSubscription {
  readonly subscription: Subscription
  readonly secretVersion: number
}

const toSubscription = (row: Row): StoredSubscription => ({
  subscription: Subscription.make({
    id: row.subscription_id as SubscriptionId,
    storeId: row.store_id,
    name: row.name,
    targetUrl: row.target_url,
    events: row.events,
    isActive: row.is_active,
    createdAt: DateTime.unsafeMake(row.created_at),
    updatedAt: DateTime.unsafeMake(row.updated_at)
  }),
  secretVersion: row.secret_version
})

const columns = "subscription_id, store_id, name, target_url, events, is_active, secret_version, created_at, updated_at"

const rows = <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  query.pipe(Effect.flatMap(decodeRows), Effect.orDie, Effect.map((rs) => rs.map(toSubscription)))

const first = <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  rows(query).pipe(Effect.map((rs) => Option.fromNullable(rs[0])))

export interface NewSubscription {
  readonly id: SubscriptionId
  readonly storeId: string
  readonly name: string
  readonly targetUrl: string
  readonly events: ReadonlyArray<string>
  readonly isActive: boolean
}

export interface SubscriptionPatch {
  readonly name?: string | undefined
  readonly targetUrl?: string | undefined
  readonly events?: ReadonlyArray<string> | undefined
  readonly isActive?: boolean | undefined
}

/** Every query names the store: a request can never reach another store's subscription. */
export const SubscriptionsRepo = {
  insert: (s: NewSubscription) =>
    Effect.flatMap(SqlClient, (sql) =>
      rows(sql`
        INSERT INTO webhook_subscriptions (subscription_id, store_id, name, target_url, events, is_active)
        VALUES (${s.id}, ${s.storeId}, ${s.name}, ${s.targetUrl}, ${s.events}, ${s.isActive})
        RETURNING ${sql.literal(columns)}`)).pipe(Effect.map((rs) => rs[0]!)),

  list: (storeId: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      rows(sql`
        SELECT ${sql.literal(columns)} FROM webhook_subscriptions
        WHERE store_id = ${storeId} ORDER BY created_at DESC, subscription_id DESC`)),

  find: (storeId: string, id: SubscriptionId) =>
    Effect.flatMap(SqlClient, (sql) =>
      first(sql`
        SELECT ${sql.literal(columns)} FROM webhook_subscriptions
        WHERE store_id = ${storeId} AND subscription_id = ${id}`)),

  update: (storeId: string, id: SubscriptionId, patch: SubscriptionPatch) =>
    Effect.flatMap(SqlClient, (sql) =>
      first(sql`
        UPDATE webhook_subscriptions SET
          name = COALESCE(${patch.name ?? null}, name),
          target_url = COALESCE(${patch.targetUrl ?? null}, target_url),
          events = COALESCE(${patch.events ?? null}::text[], events),
          is_active = COALESCE(${patch.isActive ?? null}::boolean, is_active),
          updated_at = now()
        WHERE store_id = ${storeId} AND subscription_id = ${id}
        RETURNING ${sql.literal(columns)}`)),

  remove: (storeId: string, id: SubscriptionId) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`DELETE FROM webhook_subscriptions WHERE store_id = ${storeId} AND subscription_id = ${id}
          RETURNING subscription_id`.pipe(Effect.orDie, Effect.map((rs) => rs.length > 0))),

  /** After a new secret was written to Vault: instances re-read it on their next delivery. */
  bumpSecretVersion: (storeId: string, id: SubscriptionId) =>
    Effect.flatMap(SqlClient, (sql) =>
      first(sql`
        UPDATE webhook_subscriptions SET secret_version = secret_version + 1, updated_at = now()
        WHERE store_id = ${storeId} AND subscription_id = ${id}
        RETURNING ${sql.literal(columns)}`))
}
