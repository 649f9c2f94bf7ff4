import type { SqlClient } from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Schema } from "effect"
import type { ClaimAhead, ClaimedDelivery, ClaimOptions } from "../../services/DeliveryStore.ts"
import { PersistenceError } from "../../services/Persistence.ts"
import { persistence } from "../sqlErrors.ts"
import { waitingById } from "./waitingById.ts"

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
  payload_bytes: Schema.Number,
  max_in_flight: Schema.NullOr(Schema.Number)
})
const decodeClaimed = Schema.decodeUnknown(Schema.Array(ClaimedRow))

/**
 * The bytes an attempt POSTs and signs: the stored jsonb as `pg` parses it, as
 * compact JSON again. Every claim of a delivery (the fan-out's included) reads
 * it this way, so every attempt sends the same bytes.
 */
export const attemptBody = (jsonb: unknown): string => JSON.stringify(jsonb)

/** What an attempt signs with, from its subscription (`s`): every claim of a webhook delivery reads these. */
export const signingColumns = (sql: SqlClient) =>
  sql`s.target_url, s.secret_version, coalesce(s.previous_secret_until > now(), false) AS previous_secret_active`

/** Claimed payloads of one claim stay within this many bytes unless the caller says otherwise. */
const defaultMaxBytes = 64 * 1024 * 1024

const decodeRows = (options: ClaimOptions) => (rows: ReadonlyArray<unknown>) =>
  decodeClaimed(rows).pipe(
    Effect.mapError(() => new PersistenceError({ kind: "Rejected", operation: "claim", detail: "unexpected row shape" })),
    Effect.map((rows): ReadonlyArray<ClaimedDelivery> =>
      rows.map((row) => ({ ...row, lane: options.lane, body: attemptBody(row.body) }))
    )
  )

/** Of the rows `from` holds, oldest first, those whose payloads fit the byte budget (the first always does). */
const withinBudget = (sql: SqlClient, from: "picked" | "candidates", options: ClaimOptions) =>
  sql`SELECT * FROM (
        SELECT c.*, sum(c.payload_bytes) OVER (ORDER BY c.next_retry_at, c.delivery_id) AS running FROM ${sql(from)} c
      ) sized
      WHERE running - payload_bytes < ${options.maxBytes ?? defaultMaxBytes}`

const returning = (sql: SqlClient) =>
  sql`RETURNING d.delivery_id::text AS delivery_id, d.subscription_id::text AS subscription_id,
              d.config_id::text AS config_id, d.store_id, d.event_type, d.attempt_number, d.cycle_attempts, d.replay,
              d.event_payload ->> 'occurredAt' AS occurred_at, d.event_payload AS body, w.target_url, w.secret_version,
              w.previous_secret_active, w.probe, d.payload_bytes, w.max_in_flight`

/**
 * Claims waiting deliveries of one lane that are due: `FOR UPDATE SKIP LOCKED`
 * lets any number of workers, in this process or other instances, claim at
 * once without two of them getting the same row, and the lease keeps it
 * theirs after commit. Only deliveries whose subscription or config is active:
 * a paused one's backlog must not fill the batch and starve everyone else's.
 * Rows are taken oldest first while their payloads fit the byte budget (the
 * first always does), so a claim never loads more than the engine can hold.
 */
export const claim = (sql: SqlClient) => (options: ClaimOptions) =>
  (options.lane === "webhook" ? claimWebhooks(sql, options) : claimConnectorRuns(sql, options)).pipe(
    persistence("claim"),
    Effect.flatMap(decodeRows(options))
  )

/** A delivery (`d`) that is due and not claimed. */
const dueRow = (sql: SqlClient) => sql`d.status IN ('PENDING', 'FAILED') AND d.next_retry_at <= now() AND d.lease_expires_at IS NULL`

/**
 * The deliveries of these ids that meet `where`, as `d`, each looked up by its
 * primary key and only then checked. The planner's statistics lag behind a
 * fan-out (they still say almost nothing is waiting when ten thousand rows
 * just came in): given the conditions inside the lookup, it scanned the
 * waiting index, filtered against the id, for what is a key lookup.
 */
const byId = (sql: SqlClient, ids: ReadonlyArray<string>, where: Fragment) =>
  sql`UNNEST(${ids}::uuid[]) AS given(id) CROSS JOIN LATERAL (
        SELECT d.* FROM webhook_deliveries d WHERE d.delivery_id = given.id LIMIT 1
      ) d
      WHERE ${where}`

/**
 * The `finished` relation: per subscription, this instance's attempts done but
 * not yet recorded. Read in the claim's own snapshot, a result committed
 * meanwhile shows as both its lease gone and its subscription's count down, never
 * as only one of them, so its room is counted once.
 */
export const finishedRows = (sql: SqlClient, finished: ReadonlyArray<string>) =>
  sql`finished AS (
      SELECT d.subscription_id, count(*)::int AS n FROM ${
    byId(sql, finished, sql`d.lease_expires_at IS NOT NULL AND d.subscription_id IS NOT NULL`)
  }
      GROUP BY d.subscription_id
    )`

/** The `held` relation: per subscription, the leases this instance holds (see ClaimAhead). */
export const heldRows = (sql: SqlClient, ahead: ClaimAhead | undefined) =>
  sql`held AS (
      SELECT * FROM UNNEST(${ahead?.subscriptionIds ?? []}::uuid[], ${ahead?.held ?? []}::int[]) AS h(subscription_id, n)
    )`

/**
 * A subscription's room (`s`, with `f` its finished attempts and `h` the leases
 * this instance holds), its breaker closed: its maxInFlight less the requests
 * open; claiming ahead, its maxInFlight more while every lease it has is this
 * instance's and it has just finished attempts (see ClaimAhead).
 */
export const closedRoomOf = (sql: SqlClient, ahead: ClaimAhead | undefined) =>
  ahead === undefined
    ? sql`s.max_in_flight - s.in_flight + coalesce(f.n, 0)`
    : sql`s.max_in_flight - s.in_flight + coalesce(f.n, 0)
          + CASE WHEN s.in_flight <= coalesce(h.n, 0) AND f.n > 0 THEN s.max_in_flight ELSE 0 END`

/**
 * A subscription's room (see closedRoomOf). A probe of an open breaker goes out
 * alone: the next waits until its result is on record.
 */
const roomOf = (sql: SqlClient, ahead: ClaimAhead | undefined) =>
  sql`CASE WHEN s.paused_until IS NULL THEN ${closedRoomOf(sql, ahead)} ELSE 1 - s.in_flight END`

/**
 * Whether, after a claim that took nothing, webhook deliveries are due all
 * the same: waiting for room (their subscription at its limit), or taken from
 * under it by the other claimer. Only subscriptions that may be claimed now
 * count (active, and no open breaker but at its probe time). Connector runs
 * have no limit but the lane's: an empty claim there means nothing is due.
 * With `ids`: whether any of these deliveries is due and not claimed.
 */
export const anyDue = (sql: SqlClient) => (lane: ClaimOptions["lane"], ids?: ReadonlyArray<string>) =>
  ids !== undefined
    ? sql<{ due: boolean }>`
    SELECT EXISTS (SELECT 1 FROM ${byId(sql, ids, dueRow(sql))}) AS due`.pipe(
      persistence("claim"),
      Effect.map((rows) => rows[0]?.due === true)
    )
    : lane === "connector" ? Effect.succeed(false) : sql<{ due: boolean }>`
    SELECT EXISTS (
      SELECT 1 FROM webhook_subscriptions s CROSS JOIN LATERAL (
        SELECT 1 FROM webhook_deliveries d
        WHERE d.subscription_id = s.subscription_id AND ${dueRow(sql)}
        LIMIT 1
      ) waiting
      WHERE s.is_active AND (s.paused_until IS NULL OR s.paused_until <= now())
    ) AS due`.pipe(persistence("claim"), Effect.map((rows) => rows[0]?.due === true))

/**
 * The oldest due deliveries of the subscription `t`, at most its room, through its
 * waiting index; `also` narrows them further.
 */
export const oldestDue = (sql: SqlClient, also: Fragment) =>
  sql`SELECT d.delivery_id, d.next_retry_at, d.payload_bytes FROM webhook_deliveries d
      WHERE d.subscription_id = t.subscription_id AND ${dueRow(sql)} ${also}
      ORDER BY d.next_retry_at LIMIT t.room`

/**
 * The deliveries of `from` (by `delivery_id`) that are still due, each locked
 * through its primary key (see byId) and checked on the version locked: one
 * another claimer updated meanwhile is read as it is now, one it holds is skipped.
 */
export const lockedDue = (sql: SqlClient, from: string) =>
  sql`SELECT d.delivery_id FROM ${sql(from)} w CROSS JOIN LATERAL (
        SELECT d.delivery_id, d.status, d.next_retry_at, d.lease_expires_at FROM webhook_deliveries d
        WHERE d.delivery_id = w.delivery_id
        LIMIT 1 FOR UPDATE OF d SKIP LOCKED
      ) d
      WHERE ${dueRow(sql)}`

/** A claim's lease on `d`: its holder, and until when unless renewed. */
export const leased = (sql: SqlClient, leaseSeconds: number, owner: string | null) =>
  sql`lease_expires_at = now() + ${leaseSeconds}::int * interval '1 second', lease_owner = ${owner}::text`

/**
 * A webhook subscription has an in-flight limit: the leases it holds are kept
 * on its row (`in_flight`, by trigger), so the room left is read from the
 * subscriptions alone, and at most that many of its deliveries are read, oldest
 * first, through its own index: a subscription's backlog, however long, costs
 * no more than its room, and a full subscription's costs nothing. Attempts this
 * instance has finished but not yet recorded (`finished`) still hold their
 * leases but no connection: their room is used again at once. Two instances
 * claiming at the same moment may each see the same room, so across instances
 * the limit can be passed briefly by what they claimed together. While an
 * endpoint's breaker is open its deliveries wait, but for one probe at a time
 * (its result on record before the next) once the probe's time has come.
 */
export const claimWebhooks = (sql: SqlClient, options: ClaimOptions) => {
  const finished = options.finished ?? []
  const due = dueRow(sql)
  // Signalled new deliveries are found by id (primary key), and only their subscriptions are
  // read (not every active one: a store may have thousands); the rest per subscription.
  const signalled = options.ids
    ? sql`, signalled AS (
        SELECT d.delivery_id, d.next_retry_at, d.payload_bytes, d.subscription_id FROM ${byId(sql, options.ids, due)}
      )`
    : sql``
  // Signalled or not, a subscription's deliveries go out oldest first: a claim by id takes
  // those of its subscriptions that have waited longer than the signalled ones (left behind by
  // an earlier claim for want of room) before them, else a steady stream of new deliveries,
  // each claimed as it is signalled, would keep overtaking them until the next poll. Looked
  // up through the subscription's waiting index, bounded by the signalled ones' time and by
  // the room: never more rows than the claim can take.
  const picked = options.ids
    ? sql`SELECT p.delivery_id, p.next_retry_at, p.payload_bytes, t.* FROM open t CROSS JOIN LATERAL (
          SELECT w.* FROM (
            SELECT s.delivery_id, s.next_retry_at, s.payload_bytes FROM signalled s WHERE s.subscription_id = t.subscription_id
            UNION ALL
            (${oldestDue(sql, sql`AND d.next_retry_at < (
              SELECT min(s.next_retry_at) FROM signalled s WHERE s.subscription_id = t.subscription_id
            )`)})
          ) w
          ORDER BY w.next_retry_at, w.delivery_id LIMIT t.room
        ) p`
    : sql`SELECT p.delivery_id, p.next_retry_at, p.payload_bytes, t.* FROM open t CROSS JOIN LATERAL (
          ${oldestDue(sql, sql``)}
        ) p`
  return sql`
    WITH ${finishedRows(sql, finished)}, ${heldRows(sql, options.ahead)}${signalled}, open AS (
      SELECT * FROM (
        SELECT s.subscription_id, ${signingColumns(sql)}, s.max_in_flight,
               s.paused_until IS NOT NULL AS probe, ${roomOf(sql, options.ahead)} AS room
        FROM webhook_subscriptions s LEFT JOIN finished f ON f.subscription_id = s.subscription_id
          LEFT JOIN held h ON h.subscription_id = s.subscription_id
        WHERE s.is_active AND (s.paused_until IS NULL OR s.paused_until <= now())
        ${options.ids ? sql`AND s.subscription_id IN (SELECT subscription_id FROM signalled)` : sql``}
      ) subscriptions
      WHERE room > 0
    ), picked AS (
      ${picked}
      ORDER BY next_retry_at, delivery_id
      LIMIT ${options.limit}
    ), within_budget AS (${withinBudget(sql, "picked", options)}), locked AS (${lockedDue(sql, "within_budget")})
    UPDATE webhook_deliveries d
    SET ${leased(sql, options.leaseSeconds, options.owner ?? null)}
    FROM within_budget w JOIN locked l ON l.delivery_id = w.delivery_id
    WHERE d.delivery_id = w.delivery_id
    ${returning(sql)}`
}

/** Connector runs: their configs have no in-flight limit beyond the lane's own. */
const claimConnectorRuns = (sql: SqlClient, options: ClaimOptions) =>
  sql`
    WITH candidates AS (
      SELECT d.delivery_id, d.payload_bytes, d.next_retry_at,
             NULL::text AS target_url, NULL::int AS secret_version, false AS previous_secret_active, false AS probe,
             NULL::int AS max_in_flight
      FROM webhook_deliveries d JOIN connector_configs t ON t.config_id = d.config_id AND t.is_active
      WHERE d.config_id IS NOT NULL AND d.status IN ('PENDING', 'FAILED') AND d.next_retry_at <= now()
        AND d.lease_expires_at IS NULL
        ${options.ids ? sql`AND d.delivery_id = ANY (${options.ids}::uuid[])` : sql``}
      ORDER BY d.next_retry_at
      LIMIT ${options.limit}
      FOR UPDATE OF d SKIP LOCKED
    ), within_budget AS (${withinBudget(sql, "candidates", options)})
    UPDATE webhook_deliveries d
    SET ${leased(sql, options.leaseSeconds, options.owner ?? null)}
    FROM within_budget w
    WHERE d.delivery_id = w.delivery_id
    ${returning(sql)}`

export const renewal = (sql: SqlClient, ids: ReadonlyArray<string>, owner: string, leaseSeconds: number) =>
  sql`
    UPDATE webhook_deliveries d SET lease_expires_at = now() + ${leaseSeconds}::int * interval '1 second'
    WHERE d.delivery_id = ANY (${ids}::uuid[]) AND d.lease_owner = ${owner} AND d.lease_expires_at IS NOT NULL
      AND ${waitingById(sql)}
    RETURNING d.delivery_id`

export const renewLeases = (sql: SqlClient) => (ids: ReadonlyArray<string>, owner: string, leaseSeconds: number) =>
  ids.length === 0 ? Effect.succeed(0) : renewal(sql, ids, owner, leaseSeconds).pipe(
    persistence("renew leases"),
    Effect.map((rows) => rows.length)
  )

export const releaseLeases = (sql: SqlClient) => (ids: ReadonlyArray<string>, owner: string) =>
  ids.length === 0 ? Effect.succeed(0) : sql`
    UPDATE webhook_deliveries d SET lease_expires_at = NULL, lease_owner = NULL
    WHERE d.delivery_id = ANY (${ids}::uuid[]) AND d.lease_owner = ${owner} AND ${waitingById(sql)}
    RETURNING d.delivery_id`.pipe(persistence("release leases"), Effect.map((rows) => rows.length))

export const releaseExpiredLeases = (sql: SqlClient) =>
  sql`
    UPDATE webhook_deliveries SET lease_expires_at = NULL, lease_owner = NULL
    WHERE lease_expires_at < now() AND status IN ('PENDING', 'FAILED')
    RETURNING delivery_id`.pipe(persistence("release expired leases"), Effect.map((rows) => rows.length))
