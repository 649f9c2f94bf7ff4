import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // The fan-out may now insert new deliveries already claimed (leased to the instance that
  // attempts them at once, with no claim round trip): those take room of their subscription
  // as a claim does, so inserts are counted too (migration 0014 counted updates and deletes,
  // when every delivery was inserted without a lease). Same statement-level form, same lock order.
  yield* sql`
    CREATE FUNCTION webhook_in_flight_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE ids uuid[]; deltas int[];
    BEGIN
      SELECT array_agg(subscription_id ORDER BY subscription_id), array_agg(n ORDER BY subscription_id) INTO ids, deltas
      FROM (SELECT subscription_id, count(*)::int AS n FROM new_rows
            WHERE subscription_id IS NOT NULL AND lease_expires_at IS NOT NULL GROUP BY subscription_id) leased;
      PERFORM webhook_in_flight_apply(ids, deltas);
      RETURN NULL;
    END $$`
  yield* sql`CREATE TRIGGER webhook_deliveries_in_flight_insert AFTER INSERT ON webhook_deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_in_flight_on_insert()`
})
