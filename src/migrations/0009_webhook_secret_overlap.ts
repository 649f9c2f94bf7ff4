import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // A rotation may keep the previous secret signing alongside the new one for a
  // while (Vault holds both), so receivers can switch without a gap: until then
  // `webhook-signature` carries both signatures. NULL: the new secret alone.
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN previous_secret_until TIMESTAMPTZ`
})
