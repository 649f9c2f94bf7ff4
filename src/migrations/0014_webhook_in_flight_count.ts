import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Leases each subscription holds, kept on its row by the database itself: a claim then
  // reads the room left from the subscriptions alone, instead of counting leases among
  // every delivery (a scan whose plan depends on table statistics that a busy queue
  // table rarely has fresh). A trigger, not the claim and record statements, keeps it,
  // so every path that takes or frees a lease (claims, results, releases, the sweeper,
  // re-triggers, deletes) counts without anyone having to remember to.
  yield* sql`ALTER TABLE webhook_subscriptions ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0`

  // Statement-level triggers: one counter update per subscription per statement, however
  // many deliveries it changed. Deliveries are always inserted without a lease (the fan-out),
  // so updates and deletes are the changes that take or free one. The rows are locked in id order
  // first, so two statements touching the same subscriptions cannot deadlock on them.
  yield* sql`
    CREATE FUNCTION webhook_in_flight_apply(ids uuid[], deltas int[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF ids IS NULL THEN RETURN; END IF;
      PERFORM 1 FROM webhook_subscriptions WHERE subscription_id = ANY (ids) ORDER BY subscription_id FOR NO KEY UPDATE;
      UPDATE webhook_subscriptions s SET in_flight = greatest(0, s.in_flight + u.delta)
      FROM unnest(ids, deltas) AS u(subscription_id, delta)
      WHERE s.subscription_id = u.subscription_id;
    END $$`
  yield* sql`
    CREATE FUNCTION webhook_in_flight_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE ids uuid[]; deltas int[];
    BEGIN
      SELECT array_agg(subscription_id ORDER BY subscription_id), array_agg(delta ORDER BY subscription_id)
      INTO ids, deltas
      FROM (
        SELECT n.subscription_id,
               sum((n.lease_expires_at IS NOT NULL)::int - (o.lease_expires_at IS NOT NULL)::int)::int AS delta
        FROM old_rows o JOIN new_rows n ON n.delivery_id = o.delivery_id
        WHERE n.subscription_id IS NOT NULL AND (o.lease_expires_at IS NULL) <> (n.lease_expires_at IS NULL)
        GROUP BY n.subscription_id
      ) changed
      WHERE delta <> 0;
      PERFORM webhook_in_flight_apply(ids, deltas);
      RETURN NULL;
    END $$`
  yield* sql`
    CREATE FUNCTION webhook_in_flight_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE ids uuid[]; deltas int[];
    BEGIN
      SELECT array_agg(subscription_id ORDER BY subscription_id), array_agg(-n ORDER BY subscription_id) INTO ids, deltas
      FROM (SELECT subscription_id, count(*)::int AS n FROM old_rows
            WHERE subscription_id IS NOT NULL AND lease_expires_at IS NOT NULL GROUP BY subscription_id) leased;
      PERFORM webhook_in_flight_apply(ids, deltas);
      RETURN NULL;
    END $$`
  yield* sql`CREATE TRIGGER webhook_deliveries_in_flight_update AFTER UPDATE ON webhook_deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_in_flight_on_update()`
  yield* sql`CREATE TRIGGER webhook_deliveries_in_flight_delete AFTER DELETE ON webhook_deliveries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_in_flight_on_delete()`

  // Leases held while this runs: the triggers exist before the count is taken, in one
  // transaction that holds the table against writers, so none is missed or counted twice.
  yield* sql`
    UPDATE webhook_subscriptions s SET in_flight = l.n
    FROM (SELECT subscription_id, count(*)::int AS n FROM webhook_deliveries
          WHERE lease_expires_at IS NOT NULL AND subscription_id IS NOT NULL GROUP BY subscription_id) l
    WHERE s.subscription_id = l.subscription_id`
})
