import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Leases are short and renewed while held (so a dead instance's claims come back
  // within seconds): only the holder may renew or release one, hence its owner.
  yield* sql`ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT`

  // A claim loads payloads into memory: their sizes, known without reading them,
  // keep what one instance holds at once within a byte budget.
  yield* sql`ALTER TABLE webhook_deliveries ADD COLUMN payload_bytes INTEGER NOT NULL DEFAULT 0`

  // Consumed messages that were not taken in (too large, too deep, not an envelope,
  // refused by the database): where they came from and why, never their content
  // (Kafka keeps that at topic/partition/offset). They hold up nothing else.
  yield* sql`
    CREATE TABLE quarantined_events (
      quarantine_id  BIGSERIAL PRIMARY KEY,
      topic          TEXT NOT NULL,
      kafka_partition INTEGER NOT NULL,
      kafka_offset   TEXT NOT NULL,
      reason         TEXT NOT NULL,
      detail         TEXT NOT NULL,
      size_bytes     INTEGER NOT NULL,
      store_id       TEXT,
      event_id       UUID,
      quarantined_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX quarantined_events_store_idx ON quarantined_events (store_id, quarantined_at DESC)`

  // Outbox messages Kafka can never accept (over the broker's size limit, refused as
  // invalid) are moved here instead of wedging the relay; kept whole, so an operator can
  // send them again once the limit is raised.
  yield* sql`
    CREATE TABLE kafka_outbox_set_aside (
      message_id  BIGINT PRIMARY KEY,
      topic       TEXT NOT NULL,
      message_key TEXT,
      value       TEXT NOT NULL,
      size_bytes  INTEGER NOT NULL,
      reason      TEXT NOT NULL,
      created_at  TIMESTAMPTZ NOT NULL,
      set_aside_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
})
