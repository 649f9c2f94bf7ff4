import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // A claim sets a lease and a release clears it; neither changes an indexed column once
  // the lease index is gone, so PostgreSQL can update the row in place on its page (a HOT
  // update) instead of adding an entry to each of the table's indexes: a claim then
  // writes one row version, not nine index entries besides. The lease index counted leases
  // per subscription until migration 0014 kept that count on the subscription; the sweeper
  // finds expired leases among the waiting deliveries (webhook_deliveries_subscription_waiting_idx
  // holds every PENDING and FAILED row), so nothing reads it any more.
  yield* sql`DROP INDEX webhook_deliveries_leased_subscription_idx`
  // Room on each page for the claim's new row version (new pages; existing ones as they are rewritten).
  yield* sql`ALTER TABLE webhook_deliveries SET (fillfactor = 75)`
})
