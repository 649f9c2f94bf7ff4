import type { SqlClient } from "@effect/sql/SqlClient"
import type { IntakeClaim } from "../../services/DeliveryStore.ts"
import { dueRow, oldestDue } from "./claims.ts"

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
    ), older_locked AS (
      -- Locked through the primary key and checked on the version locked (as a claim does).
      SELECT d.delivery_id FROM older_sized w CROSS JOIN LATERAL (
        SELECT d.delivery_id, d.status, d.next_retry_at, d.lease_expires_at FROM webhook_deliveries d
        WHERE d.delivery_id = w.delivery_id
        LIMIT 1 FOR UPDATE OF d SKIP LOCKED
      ) d
      WHERE ${dueRow(sql)}
    ), older_claimed AS (
      UPDATE webhook_deliveries d
      SET lease_expires_at = now() + ${claim.leaseSeconds}::int * interval '1 second', lease_owner = ${claim.owner}::text
      FROM older_locked l
      WHERE d.delivery_id = l.delivery_id
      RETURNING d.delivery_id, d.subscription_id, d.store_id, d.event_type, d.attempt_number, d.cycle_attempts, d.replay,
                d.event_payload, d.payload_bytes, d.next_retry_at
    ), older_taken AS (
      SELECT subscription_id, count(*)::int AS n FROM older_claimed GROUP BY subscription_id
    ), older_total AS (
      SELECT count(*)::int AS n, coalesce(sum(payload_bytes), 0)::bigint AS bytes FROM older_claimed
    )`
