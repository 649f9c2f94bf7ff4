import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Signing secrets live in Vault and are cached in-process by (subscription, version):
  // a rotation bumps the version, so every instance picks the new secret up on its
  // next delivery for that subscription, without a Vault read per delivery.
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 1`

  // Messages for Kafka (webhook.delivered, webhook.dead_lettered, …) are written in the
  // same transaction as the state change they announce, then relayed: a crash between
  // the commit and the publish delays the message, it never loses it.
  yield* sql`
    CREATE TABLE kafka_outbox (
      message_id  BIGSERIAL PRIMARY KEY,
      topic       TEXT NOT NULL,
      message_key TEXT,
      value       TEXT NOT NULL,
      created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
})
