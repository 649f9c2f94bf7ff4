import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Inbound sync publishes each change of a marketplace record once. A poll's window can
  // answer changes the previous poll already published (Amazon's getOrders window is
  // inclusive at both ends, so an order updated exactly at the cursor comes back with the
  // next poll; two polls of one config racing each other read the same window): the key of
  // each published change — the deterministic event id of (config, record id, updatedAt) —
  // is kept here, and a change whose key is already here is not published again. Written
  // in the poll's transaction with the outbox rows and the cursor. Kept 30 days (a window's
  // repeats come with the next poll, at most a day later), pruned by the polls.
  yield* sql`
    CREATE TABLE connector_imported_changes (
      config_id    UUID NOT NULL REFERENCES connector_configs (config_id) ON DELETE CASCADE,
      event_id     UUID NOT NULL,
      published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (config_id, event_id)
    )`
})
