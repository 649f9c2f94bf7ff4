import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Connector event handling is durable and retried on the webhook retry table by the
  // same claim/attempt/record machinery: a delivery's target is either a webhook
  // subscription or a connector config, never both.
  yield* sql`ALTER TABLE webhook_deliveries ALTER COLUMN subscription_id DROP NOT NULL`
  yield* sql`ALTER TABLE webhook_deliveries
    ADD COLUMN config_id UUID REFERENCES connector_configs (config_id) ON DELETE CASCADE`
  yield* sql`ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_one_target
    CHECK ((subscription_id IS NULL) <> (config_id IS NULL))`
  // A re-consumed event never runs a connector twice for the same config.
  yield* sql`ALTER TABLE webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_config_event_key UNIQUE (config_id, event_id)`

  // Credentials live in Vault; instances cache them by (config, version), and
  // PUT …/credentials bumps the version (as secret_version does for webhooks).
  yield* sql`ALTER TABLE connector_configs ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0`
  // The fan-out reads a store's active configs for every event.
  yield* sql`CREATE INDEX connector_configs_active_store_idx ON connector_configs (store_id) WHERE is_active`

  // Inbound polling: the persisted cursor (a restart neither skips nor repeats
  // records) and a lease, so that with several instances one polls a config at a time.
  yield* sql`
    CREATE TABLE connector_poll_state (
      config_id        UUID PRIMARY KEY REFERENCES connector_configs (config_id) ON DELETE CASCADE,
      cursor           TEXT,
      lease_owner      TEXT,
      lease_expires_at TIMESTAMPTZ,
      updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
})
