import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Webhook claims read each subscription's due deliveries through its own index
  // (subscription_id, next_retry_at). Beside a table-wide (next_retry_at) index the
  // planner took the wide one for that, assuming the due rows spread evenly across
  // subscriptions, and scanned one busy subscription's whole backlog to find an idle
  // one's nothing. Only connector runs are claimed table-wide, so only they keep one.
  yield* sql`DROP INDEX webhook_deliveries_due_idx`
  yield* sql`CREATE INDEX webhook_deliveries_connector_due_idx ON webhook_deliveries (next_retry_at)
    WHERE config_id IS NOT NULL AND status IN ('PENDING', 'FAILED')`
})
