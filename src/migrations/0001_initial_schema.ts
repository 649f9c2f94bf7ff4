import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

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

  yield* sql`
    CREATE TABLE webhook_subscriptions (
      subscription_id UUID PRIMARY KEY,
      store_id        TEXT NOT NULL,
      name            TEXT NOT NULL,
      target_url      TEXT NOT NULL,
      events          TEXT[] NOT NULL,
      is_active       BOOLEAN NOT NULL DEFAULT TRUE,
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
    )`

  // Deleting a subscription deletes its delivery history (ON DELETE CASCADE):
  // a delivery cannot be attempted without its subscription's URL and secret.
  yield* sql`
    CREATE TABLE webhook_deliveries (
      delivery_id     UUID PRIMARY KEY,
      subscription_id UUID NOT NULL REFERENCES webhook_subscriptions (subscription_id) ON DELETE CASCADE,
      store_id        TEXT NOT NULL,
      event_type      TEXT NOT NULL,
      event_id        UUID NOT NULL,
      event_payload   JSONB NOT NULL,
      http_status     INTEGER,
      response_body   TEXT,
      attempt_number  INTEGER NOT NULL DEFAULT 0,
      next_retry_at   TIMESTAMPTZ,
      delivered_at    TIMESTAMPTZ,
      status          webhook_delivery_status NOT NULL DEFAULT 'PENDING',
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
    )`

  yield* sql`
    CREATE TABLE api_credentials (
      credential_id UUID PRIMARY KEY,
      store_id      TEXT NOT NULL,
      name          TEXT NOT NULL,
      type          api_credential_type NOT NULL,
      client_id     TEXT NOT NULL,
      hashed_secret TEXT NOT NULL,
      scopes        TEXT[] NOT NULL,
      is_active     BOOLEAN NOT NULL DEFAULT TRUE,
      last_used_at  TIMESTAMPTZ,
      expires_at    TIMESTAMPTZ,
      created_by    TEXT NOT NULL,
      created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
    )`

  yield* sql`
    CREATE TABLE connector_configs (
      config_id           UUID PRIMARY KEY,
      store_id            TEXT NOT NULL,
      connector_type      TEXT NOT NULL,
      display_name        TEXT NOT NULL,
      is_active           BOOLEAN NOT NULL DEFAULT TRUE,
      event_subscriptions TEXT[] NOT NULL DEFAULT '{}',
      settings            JSONB NOT NULL DEFAULT '{}',
      created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
    )`

  // The design document names the columns of a run but no key: sync_id is added,
  // and the run's config and store so a store's log can be read without a join.
  yield* sql`
    CREATE TABLE connector_sync_log (
      sync_id       UUID PRIMARY KEY,
      config_id     UUID NOT NULL REFERENCES connector_configs (config_id) ON DELETE CASCADE,
      store_id      TEXT NOT NULL,
      direction     connector_sync_direction NOT NULL,
      entity_type   TEXT NOT NULL,
      record_count  INTEGER NOT NULL DEFAULT 0,
      status        connector_sync_status NOT NULL,
      error_summary TEXT,
      started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      finished_at   TIMESTAMPTZ
    )`
})
