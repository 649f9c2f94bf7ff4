import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { type Column, createTable } from "./createTable.ts"

// Columns several tables share, spelled once.
const storeId: Column = ["store_id", "TEXT NOT NULL"]
const isActive: Column = ["is_active", "BOOLEAN NOT NULL DEFAULT TRUE"]
const timestamps: ReadonlyArray<Column> = [
  ["created_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"],
  ["updated_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"]
]

/**
 * The five tables of the design document, with its column names and ENUM types.
 * `store_id` is TEXT: the platform's store ids are opaque strings.
 * `created_at`/`updated_at` are added because every admin listing sorts by them.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  yield* sql`CREATE TYPE webhook_delivery_status AS ENUM ('PENDING', 'DELIVERED', 'FAILED', 'DEAD_LETTERED')`
  yield* sql`CREATE TYPE api_credential_type AS ENUM ('API_KEY', 'OAUTH_CLIENT')`
  yield* sql`CREATE TYPE connector_sync_direction AS ENUM ('INBOUND', 'OUTBOUND')`
  yield* sql`CREATE TYPE connector_sync_status AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED')`

  yield* sql.unsafe(createTable("webhook_subscriptions", [
    ["subscription_id", "UUID PRIMARY KEY"],
    storeId,
    ["name", "TEXT NOT NULL"],
    ["target_url", "TEXT NOT NULL"],
    ["events", "TEXT[] NOT NULL"],
    isActive,
    ...timestamps
  ]))

  // Deleting a subscription deletes its delivery history (ON DELETE CASCADE):
  // a delivery cannot be attempted without its subscription's URL and secret.
  yield* sql.unsafe(createTable("webhook_deliveries", [
    ["delivery_id", "UUID PRIMARY KEY"],
    ["subscription_id", "UUID NOT NULL REFERENCES webhook_subscriptions (subscription_id) ON DELETE CASCADE"],
    storeId,
    ["event_type", "TEXT NOT NULL"],
    ["event_id", "UUID NOT NULL"],
    ["event_payload", "JSONB NOT NULL"],
    ["http_status", "INTEGER"],
    ["response_body", "TEXT"],
    ["attempt_number", "INTEGER NOT NULL DEFAULT 0"],
    ["next_retry_at", "TIMESTAMPTZ"],
    ["delivered_at", "TIMESTAMPTZ"],
    ["status", "webhook_delivery_status NOT NULL DEFAULT 'PENDING'"],
    ...timestamps
  ]))

  yield* sql.unsafe(createTable("api_credentials", [
    ["credential_id", "UUID PRIMARY KEY"],
    storeId,
    ["name", "TEXT NOT NULL"],
    ["type", "api_credential_type NOT NULL"],
    ["client_id", "TEXT NOT NULL"],
    ["hashed_secret", "TEXT NOT NULL"],
    ["scopes", "TEXT[] NOT NULL"],
    isActive,
    ["last_used_at", "TIMESTAMPTZ"],
    ["expires_at", "TIMESTAMPTZ"],
    ["created_by", "TEXT NOT NULL"],
    ...timestamps
  ]))

  yield* sql.unsafe(createTable("connector_configs", [
    ["config_id", "UUID PRIMARY KEY"],
    storeId,
    ["connector_type", "TEXT NOT NULL"],
    ["display_name", "TEXT NOT NULL"],
    isActive,
    ["event_subscriptions", "TEXT[] NOT NULL DEFAULT '{}'"],
    ["settings", "JSONB NOT NULL DEFAULT '{}'"],
    ...timestamps
  ]))

  // The design document names the columns of a run but no key: sync_id is added,
  // and the run's config and store so a store's log can be read without a join.
  yield* sql.unsafe(createTable("connector_sync_log", [
    ["sync_id", "UUID PRIMARY KEY"],
    ["config_id", "UUID NOT NULL REFERENCES connector_configs (config_id) ON DELETE CASCADE"],
    storeId,
    ["direction", "connector_sync_direction NOT NULL"],
    ["entity_type", "TEXT NOT NULL"],
    ["record_count", "INTEGER NOT NULL DEFAULT 0"],
    ["status", "connector_sync_status NOT NULL"],
    ["error_summary", "TEXT"],
    ["started_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"],
    ["finished_at", "TIMESTAMPTZ"]
  ]))
})
