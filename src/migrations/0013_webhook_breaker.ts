import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // An endpoint's health, kept up to date by every recorded attempt: failures in a
  // row (the circuit breaker opens at a threshold), the last success and failure,
  // and since when it has failed without a success (auto-disable after days of it).
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0`
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN last_success_at TIMESTAMPTZ`
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN last_failure_at TIMESTAMPTZ`
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN failing_since TIMESTAMPTZ`
  // Set while the breaker is open: its deliveries wait (spending nothing), and one
  // probe may go out once this time has come. NULL: closed.
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN paused_until TIMESTAMPTZ`

  // Each subscription's waiting deliveries (health's backlog, the backlog metrics, recover).
  yield* sql`CREATE INDEX webhook_deliveries_subscription_waiting_idx ON webhook_deliveries (subscription_id, next_retry_at)
    WHERE status IN ('PENDING', 'FAILED')`
  yield* sql`CREATE INDEX webhook_deliveries_subscription_created_idx ON webhook_deliveries (subscription_id, created_at)`
})
