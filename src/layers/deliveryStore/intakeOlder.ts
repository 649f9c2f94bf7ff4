import type { SqlClient } from "@effect/sql/SqlClient"
import type { IntakeClaim } from "../../services/DeliveryStore.ts"
import { leased, lockedDue, oldestDue } from "./claims.ts"

/**
 * The common table expressions by which an intake claim takes, before any new
 * delivery, the older due deliveries of the batch's subscriptions (left
 * waiting by an earlier claim for want of room): a subscription's deliveries go
 * out oldest first, and a backlog is claimed by the statements the fan-out
 * makes anyway instead of waiting for the poller. Reads `targets` (the batch's
 * subscriptions with their room); at most `limit` subscriptions are looked
 * into (no claim takes more rows than that), each through its waiting index,
 * bounded by its room. `older_claimed` holds what was claimed, `older_taken`
 * the room that took per subscription, `older_total` their count and bytes.
 * The rows this statement inserts are not in its snapshot, so none of them is
 * taken here.
 */
export const olderClaimed = (sql: SqlClient, claim: IntakeClaim) =>
  sql`older AS (
      SELECT p.delivery_id, p.next_retry_at, p.payload_bytes FROM (
        SELECT subscription_id, room FROM (
          SELECT DISTINCT ON (subscription_id) subscription_id, room, n FROM targets
          WHERE subscription_id IS NOT NULL AND room > 0
          ORDER BY subscription_id, n
        ) first_seen
        ORDER BY n, subscription_id LIMIT ${claim.limit}
      ) t CROSS JOIN LATERAL (${oldestDue(sql, sql``)}) p
    ), older_sized AS (
      SELECT * FROM (
        SELECT o.*, row_number() OVER w AS k, sum(o.payload_bytes) OVER w AS running FROM older o
        WINDOW w AS (ORDER BY o.next_retry_at, o.delivery_id ROWS UNBOUNDED PRECEDING)
      ) sized
      WHERE k <= ${claim.limit} AND running - payload_bytes < ${claim.maxBytes}
    ), older_locked AS (${lockedDue(sql, "older_sized")}), older_claimed AS (
      UPDATE webhook_deliveries d
      SET ${leased(sql, claim.leaseSeconds, claim.owner)}
      FROM older_locked l
      WHERE d.delivery_id = l.delivery_id
      RETURNING d.delivery_id, d.subscription_id, d.store_id, d.event_type, d.attempt_number, d.cycle_attempts, d.replay,
                d.event_payload, d.payload_bytes, d.next_retry_at
    ), older_taken AS (
      SELECT subscription_id, count(*)::int AS n FROM older_claimed GROUP BY subscription_id
    ), older_total AS (
      SELECT count(*)::int AS n, coalesce(sum(payload_bytes), 0)::bigint AS bytes FROM older_claimed
    )`
