import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // attempt_number counts every attempt a delivery ever had, across re-triggers
  // (attempt 6 follows attempt 5); the retry table's position is the current
  // cycle's own count, which a re-trigger or a recover starts again at 0.
  yield* sql`ALTER TABLE webhook_deliveries ADD COLUMN cycle_attempts INTEGER NOT NULL DEFAULT 0`
  // Until now attempt_number was the cycle's count and restarted on a re-trigger:
  // it becomes the total (the history has every attempt), the cycle keeps its place.
  yield* sql`
    UPDATE webhook_deliveries d SET
      cycle_attempts = d.attempt_number,
      attempt_number = GREATEST(d.attempt_number,
        (SELECT count(*)::int FROM webhook_delivery_attempts a WHERE a.delivery_id = d.delivery_id))
    WHERE d.attempt_number > 0`

  // A cycle started by a re-trigger or a recover: its attempts carry X-SS3-Replay: true.
  yield* sql`ALTER TABLE webhook_deliveries ADD COLUMN replay BOOLEAN NOT NULL DEFAULT false`
})
