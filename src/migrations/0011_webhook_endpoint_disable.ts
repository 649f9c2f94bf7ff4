import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Why the engine switched a subscription off (a 410 Gone, failing for days):
  // shown with it, cleared when it is switched on again. Its waiting deliveries stay.
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN disabled_reason TEXT`
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN disabled_at TIMESTAMPTZ`
})
