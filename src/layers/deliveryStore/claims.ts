import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import type { ClaimedDelivery, ClaimOptions } from "../../services/DeliveryStore.ts"
import { PersistenceError } from "../../services/Persistence.ts"
import { persistence } from "../sqlErrors.ts"

const ClaimedRow = Schema.Struct({
  delivery_id: Schema.String,
  subscription_id: Schema.NullOr(Schema.String),
  config_id: Schema.NullOr(Schema.String),
  store_id: Schema.String,
  event_type: Schema.String,
  attempt_number: Schema.Number,
  cycle_attempts: Schema.Number,
  replay: Schema.Boolean,
  occurred_at: Schema.NullOr(Schema.String),
  /** jsonb as `pg` parses it; compact JSON again is the exact bytes POSTed and signed (the same on every retry). */
  body: Schema.Unknown,
  target_url: Schema.NullOr(Schema.String),
  secret_version: Schema.NullOr(Schema.Number),
  previous_secret_active: Schema.Boolean,
  probe: Schema.Boolean,
  payload_bytes: Schema.Number
})
const decodeClaimed = Schema.decodeUnknown(Schema.Array(ClaimedRow))

/** Claimed payloads of one claim stay within this many bytes unless the caller says otherwise. */
const defaultMaxBytes = 64 * 1024 * 1024

/**
 * Claims waiting deliveries of one lane that are due: `FOR UPDATE SKIP LOCKED`
 * lets any number of workers, in this process or other instances, claim at
 * once without two of them getting the same row, and the lease keeps it
 * theirs after commit. Only deliveries whose subscription or config is active:
 * a paused one's backlog must not fill the batch and starve everyone else's.
 * A webhook subscription has an in-flight limit: deliveries of one already
 * holding that many leases are passed over (so a slow receiver's backlog
 * never fills the batch either), and at most its room is taken per claim. Two
 * instances claiming at the same moment may each see the same room, so across
 * instances the limit can be passed briefly by what they claimed together.
 * While an endpoint's breaker is open its deliveries wait, but for one probe
 * at a time once the probe's time has come.
 * Rows are taken oldest first while their payloads fit the byte budget (the
 * first always does), so a claim never loads more than the engine can hold.
 */
export const claim = (sql: SqlClient) => (options: ClaimOptions) => {
  const webhook = options.lane === "webhook"
  // The leases each subscription holds are counted once per claim (few rows: what is in flight),
  // and the subscriptions with room are found before any delivery is read: a full subscription's
  // backlog is then passed over by a hash probe per row, not a count per row.
  const open = webhook
    ? sql`held AS (
        SELECT l.subscription_id, count(*)::int AS held FROM webhook_deliveries l
        WHERE l.lease_expires_at IS NOT NULL AND l.subscription_id IS NOT NULL
        GROUP BY l.subscription_id
      ), open AS (
        SELECT s.subscription_id, s.target_url, s.secret_version, s.previous_secret_until, s.paused_until,
               CASE WHEN s.paused_until IS NULL THEN s.max_in_flight ELSE 1 END - coalesce(h.held, 0) AS room
        FROM webhook_subscriptions s LEFT JOIN held h ON h.subscription_id = s.subscription_id
        WHERE s.is_active
          -- An open breaker lets one probe out once its time has come; otherwise the in-flight limit.
          AND coalesce(h.held, 0) < CASE WHEN s.paused_until IS NULL THEN s.max_in_flight ELSE 1 END
          AND (s.paused_until IS NULL OR s.paused_until <= now())
      ),`
    : sql``
  const target = webhook
    ? sql`JOIN open t ON t.subscription_id = d.subscription_id`
    : sql`JOIN connector_configs t ON t.config_id = d.config_id AND t.is_active`
  const columns = webhook
    ? sql`t.target_url, t.secret_version, coalesce(t.previous_secret_until > now(), false) AS previous_secret_active,
          t.paused_until IS NOT NULL AS probe, t.room`
    : sql`NULL::text AS target_url, NULL::int AS secret_version, false AS previous_secret_active, false AS probe,
          ${options.limit}::int AS room`
  return sql`
    WITH ${open} candidates AS (
      SELECT d.delivery_id, d.payload_bytes, d.next_retry_at, coalesce(d.subscription_id, d.config_id) AS target_id, ${columns}
      FROM webhook_deliveries d ${target}
      WHERE d.status IN ('PENDING', 'FAILED') AND d.next_retry_at <= now() AND d.lease_expires_at IS NULL
        ${options.ids ? sql`AND d.delivery_id = ANY (${options.ids}::uuid[])` : sql``}
      ORDER BY d.next_retry_at
      LIMIT ${options.limit}
      FOR UPDATE OF d SKIP LOCKED
    ), within_room AS (
      SELECT * FROM (
        SELECT c.*, row_number() OVER (PARTITION BY c.target_id ORDER BY c.next_retry_at, c.delivery_id) AS nth FROM candidates c
      ) ranked
      WHERE nth <= room
    ), within_budget AS (
      SELECT * FROM (
        SELECT c.*, sum(c.payload_bytes) OVER (ORDER BY c.next_retry_at, c.delivery_id) AS running FROM within_room c
      ) sized
      WHERE running - payload_bytes < ${options.maxBytes ?? defaultMaxBytes}
    )
    UPDATE webhook_deliveries d
    SET lease_expires_at = now() + ${options.leaseSeconds}::int * interval '1 second', lease_owner = ${options.owner ?? null}
    FROM within_budget w
    WHERE d.delivery_id = w.delivery_id
    RETURNING d.delivery_id::text AS delivery_id, d.subscription_id::text AS subscription_id,
              d.config_id::text AS config_id, d.store_id, d.event_type, d.attempt_number, d.cycle_attempts, d.replay,
              d.event_payload ->> 'occurredAt' AS occurred_at, d.event_payload AS body, w.target_url, w.secret_version, w.previous_secret_active, w.probe, d.payload_bytes`.pipe(
    persistence("claim"),
    Effect.flatMap((rows) =>
      decodeClaimed(rows).pipe(
        Effect.mapError(() => new PersistenceError({ kind: "Rejected", operation: "claim", detail: "unexpected row shape" }))
      )
    ),
    Effect.map((rows): ReadonlyArray<ClaimedDelivery> =>
      rows.map((row) => ({ ...row, lane: options.lane, body: JSON.stringify(row.body) }))
    )
  )
}

export const renewLeases = (sql: SqlClient) => (ids: ReadonlyArray<string>, owner: string, leaseSeconds: number) =>
  ids.length === 0 ? Effect.succeed(0) : sql`
    UPDATE webhook_deliveries SET lease_expires_at = now() + ${leaseSeconds}::int * interval '1 second'
    WHERE delivery_id = ANY (${ids}::uuid[]) AND lease_owner = ${owner} AND lease_expires_at IS NOT NULL
      AND status IN ('PENDING', 'FAILED')
    RETURNING delivery_id`.pipe(persistence("renew leases"), Effect.map((rows) => rows.length))

export const releaseLeases = (sql: SqlClient) => (ids: ReadonlyArray<string>, owner: string) =>
  ids.length === 0 ? Effect.succeed(0) : sql`
    UPDATE webhook_deliveries SET lease_expires_at = NULL, lease_owner = NULL
    WHERE delivery_id = ANY (${ids}::uuid[]) AND lease_owner = ${owner} AND status IN ('PENDING', 'FAILED')
    RETURNING delivery_id`.pipe(persistence("release leases"), Effect.map((rows) => rows.length))

export const releaseExpiredLeases = (sql: SqlClient) =>
  sql`
    UPDATE webhook_deliveries SET lease_expires_at = NULL, lease_owner = NULL
    WHERE lease_expires_at < now() AND status IN ('PENDING', 'FAILED')
    RETURNING delivery_id`.pipe(persistence("release expired leases"), Effect.map((rows) => rows.length))
