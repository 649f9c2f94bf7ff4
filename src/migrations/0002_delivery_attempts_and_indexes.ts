import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { createTable } from "./createTable.ts"

/** What webhook delivery and credential validation need beyond the design document's columns. */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // A re-consumed Kafka event must never create a second delivery for a subscription.
  yield* sql`
    ALTER TABLE webhook_deliveries
      ADD CONSTRAINT webhook_deliveries_subscription_event_key UNIQUE (subscription_id, event_id)`

  // A worker claims a delivery by setting a lease; a claim whose worker died
  // expires and the sweeper hands the delivery out again.
  yield* sql`ALTER TABLE webhook_deliveries ADD COLUMN lease_expires_at TIMESTAMPTZ`

  // The due-retry query: "waiting deliveries whose time has come, oldest first".
  // Partial, so delivered and dead-lettered rows (the vast majority) cost nothing.
  yield* sql`
    CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_retry_at)
      WHERE status IN ('PENDING', 'FAILED')`

  // Admin listing: one store's deliveries, newest first, keyset-paginated.
  yield* sql`
    CREATE INDEX webhook_deliveries_store_created_idx
      ON webhook_deliveries (store_id, created_at DESC, delivery_id DESC)`

  // Bulk replay and status filters within a store.
  yield* sql`CREATE INDEX webhook_deliveries_store_status_idx ON webhook_deliveries (store_id, status)`

  // The fan-out reads a store's active subscriptions for every event.
  yield* sql`CREATE INDEX webhook_subscriptions_store_idx ON webhook_subscriptions (store_id) WHERE is_active`

  // Every attempt is kept (status, capped body, duration, error), also across re-triggers.
  yield* sql.unsafe(createTable("webhook_delivery_attempts", [
    ["attempt_id", "UUID PRIMARY KEY"],
    ["delivery_id", "UUID NOT NULL REFERENCES webhook_deliveries (delivery_id) ON DELETE CASCADE"],
    ["attempt_number", "INTEGER NOT NULL"],
    ["started_at", "TIMESTAMPTZ NOT NULL"],
    ["duration_ms", "INTEGER NOT NULL"],
    ["http_status", "INTEGER"],
    ["response_body", "TEXT"],
    ["error", "TEXT"]
  ]))
  yield* sql`CREATE INDEX webhook_delivery_attempts_delivery_idx ON webhook_delivery_attempts (delivery_id, started_at)`

  // Gateway validation finds a credential by its public client_id: one indexed
  // lookup, never a scan over hashes. Unique, so a client_id names one credential.
  yield* sql`CREATE UNIQUE INDEX api_credentials_client_id_key ON api_credentials (client_id)`
  yield* sql`CREATE INDEX api_credentials_store_idx ON api_credentials (store_id, created_at DESC)`

  yield* sql`CREATE INDEX connector_configs_store_idx ON connector_configs (store_id)`
  yield* sql`CREATE INDEX connector_sync_log_config_idx ON connector_sync_log (config_id, started_at DESC)`
})
