import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Attempts of one subscription in flight at once (claims held, across the
  // instances): a receiver that takes 10 s to answer holds at most this many workers.
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 10
    CONSTRAINT webhook_subscriptions_max_in_flight_range CHECK (max_in_flight BETWEEN 1 AND 1000)`

  // Claims count the leases a subscription holds: few rows (bounded by the workers), one index probe.
  yield* sql`CREATE INDEX webhook_deliveries_leased_subscription_idx ON webhook_deliveries (subscription_id)
    WHERE lease_expires_at IS NOT NULL`
})
