import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // A delivery is a webhook's (subscription_id) or a connector run's (config_id), never both, and
  // each key made it unique per event for its own kind. As plain constraints, both indexes held an
  // entry for every row, the other kind's with a NULL that can never conflict: every fan-out insert
  // and every result (a non-HOT update: it changes the status) wrote one entry that nothing reads.
  // Partial unique indexes hold only their own kind's rows, with the same uniqueness; the fan-out's
  // bare ON CONFLICT DO NOTHING honours them as it did the constraints.
  yield* sql`CREATE UNIQUE INDEX webhook_deliveries_subscription_event_idx ON webhook_deliveries (subscription_id, event_id)
    WHERE subscription_id IS NOT NULL`
  yield* sql`CREATE UNIQUE INDEX webhook_deliveries_config_event_idx ON webhook_deliveries (config_id, event_id)
    WHERE config_id IS NOT NULL`
  yield* sql`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_subscription_event_key`
  yield* sql`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_config_event_key`
})
