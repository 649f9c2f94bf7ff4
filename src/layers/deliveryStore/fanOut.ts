import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import type { ClaimedDelivery, FanOutResult, IntakeClaim, NewDelivery } from "../../services/DeliveryStore.ts"
import { PersistenceError } from "../../services/Persistence.ts"
import { persistence } from "../sqlErrors.ts"
import { attemptBody, closedRoomOf, finishedRows, heldRows, signingColumns } from "./claims.ts"
import { olderClaimed } from "./intakeOlder.ts"

const utf8Bytes = (text: string) => Buffer.byteLength(text, "utf8")

/** A delivery claimed as it was inserted: what its first attempt needs (the rest is a new delivery's). */
const ClaimedAtIntake = Schema.Struct({
  id: Schema.String,
  subscription_id: Schema.String,
  store_id: Schema.String,
  event_type: Schema.String,
  occurred_at: Schema.NullOr(Schema.String),
  /** jsonb as `pg` parses it (see attemptBody). */
  body: Schema.Unknown,
  target_url: Schema.NullOr(Schema.String),
  secret_version: Schema.NullOr(Schema.Number),
  previous_secret_active: Schema.Boolean,
  payload_bytes: Schema.Number,
  max_in_flight: Schema.Number
})
const decodeClaimed = Schema.decodeUnknown(Schema.Array(ClaimedAtIntake))

/** An older delivery the intake claim took: attempted before, perhaps, or re-triggered. */
const OlderClaimed = Schema.Struct({
  ...ClaimedAtIntake.fields,
  attempt_number: Schema.Number,
  cycle_attempts: Schema.Number,
  replay: Schema.Boolean
})
const decodeOlder = Schema.decodeUnknown(Schema.Array(OlderClaimed))

interface FanOutRow {
  readonly kind: "created" | "claimed" | "matched" | "older"
  readonly id: string
  readonly is_connector: boolean
}

/**
 * Whether each target is inserted claimed (`leased`). Given room: a webhook
 * target fits while its subscription (breaker closed) has in-flight room left
 * for it after the older deliveries this claim took (`older_taken`), its events
 * in order; of those that fit, the first `limit` (less the older ones taken)
 * are leased while their payloads, after the older ones', stay within
 * `maxBytes` (the first always does when nothing older was taken).
 */
const leasedTargets = (sql: SqlClient, claim: IntakeClaim | undefined) =>
  claim === undefined ? sql`SELECT t.*, false AS leased FROM targets t` : sql`
    SELECT r.*, r.fits AND row_number() OVER w <= ${claim.limit} - ot.n
                AND ot.bytes + sum(r.payload_bytes) OVER w - r.payload_bytes < ${claim.maxBytes} AS leased
    FROM (
      SELECT t.*, t.room - coalesce(tk.n, 0) > 0
               AND row_number() OVER (PARTITION BY t.subscription_id ORDER BY t.n) <= t.room - coalesce(tk.n, 0) AS fits
      FROM targets t LEFT JOIN older_taken tk ON tk.subscription_id = t.subscription_id
    ) r CROSS JOIN older_total ot
    WINDOW w AS (PARTITION BY r.fits ORDER BY r.n, r.subscription_id ROWS UNBOUNDED PRECEDING)`

/** The older deliveries an intake claim took, as its answer's `older` rows (see intakeOlder.ts). */
const olderRows = (sql: SqlClient, claim: IntakeClaim | undefined) =>
  claim === undefined ? sql`` : sql`
    UNION ALL
    SELECT 'older', o.delivery_id::text, false, o.subscription_id::text, o.store_id, o.event_type,
           o.event_payload ->> 'occurredAt', o.event_payload, ${signingColumns(sql)}, o.payload_bytes,
           o.attempt_number, o.cycle_attempts, o.replay, s.max_in_flight
    FROM older_claimed o JOIN webhook_subscriptions s ON s.subscription_id = o.subscription_id`

/**
 * One delivery per matching active webhook subscription and per matching
 * active connector config of each event's store, for a whole batch of events
 * in one statement (one round trip). The unique (subscription_id, event_id)
 * and (config_id, event_id) keys make a re-consumed event a no-op. Given
 * `claim`, the webhook deliveries that fit its room are inserted leased to its
 * owner (their subscriptions' in-flight counts follow by trigger, migration
 * 0018; the claim's finished attempts free their room, as in a claim) and come back with what their first attempt needs. Answers the
 * deliveries created, those claimed, and, per event, whether anything matched
 * it (the ledger's matched/unmatched counts).
 */
export const createForEvents = (sql: SqlClient) => (events: ReadonlyArray<EventEnvelope>, claim?: IntakeClaim) => {
  if (events.length === 0) return Effect.succeed<FanOutResult>({ created: [], claimed: [], matched: [] })
  const payloads = events.map((e) => JSON.stringify(e))
  const lease = claim === undefined
    ? sql`NULL::timestamptz, NULL::text`
    : sql`CASE WHEN leased THEN now() + ${claim.leaseSeconds}::int * interval '1 second' END,
          CASE WHEN leased THEN ${claim.owner}::text END`
  return sql<FanOutRow>`
    WITH ${finishedRows(sql, claim?.finished ?? [])}, ${heldRows(sql, claim?.ahead)}, e AS (
      SELECT e.*, p.payload FROM UNNEST(${events.map((e) => e.eventId)}::uuid[], ${events.map((e) => e.eventType)}::text[],
                                       ${events.map((e) => e.storeId)}::text[], ${payloads.map(utf8Bytes)}::int[])
          WITH ORDINALITY AS e(event_id, event_type, store_id, payload_bytes, n)
        JOIN jsonb_array_elements(${`[${payloads.join(",")}]`}::jsonb) WITH ORDINALITY AS p(payload, n) USING (n)
    ), targets AS (
      SELECT e.*, s.subscription_id, NULL::uuid AS config_id,
             CASE WHEN s.paused_until IS NULL THEN ${closedRoomOf(sql, claim?.ahead)} ELSE 0 END AS room
      FROM e JOIN webhook_subscriptions s
        ON s.store_id = e.store_id AND s.is_active AND (e.event_type = ANY (s.events) OR '*' = ANY (s.events))
        LEFT JOIN finished f ON f.subscription_id = s.subscription_id
        LEFT JOIN held h ON h.subscription_id = s.subscription_id
      UNION ALL
      SELECT e.*, NULL::uuid, c.config_id, 0
      FROM e JOIN connector_configs c
        ON c.store_id = e.store_id AND c.is_active AND e.event_type = ANY (c.event_subscriptions)
    ), ${claim === undefined ? sql`` : sql`${olderClaimed(sql, claim)},`} leased AS (${leasedTargets(sql, claim)}), inserted AS (
      INSERT INTO webhook_deliveries
        (delivery_id, subscription_id, config_id, store_id, event_type, event_id, event_payload, payload_bytes, next_retry_at,
         lease_expires_at, lease_owner)
      SELECT gen_random_uuid(), subscription_id, config_id, store_id, event_type, event_id, payload, payload_bytes, now(),
             ${lease}
      FROM leased
      ON CONFLICT DO NOTHING
      RETURNING delivery_id, subscription_id, config_id, store_id, event_type, event_payload, payload_bytes,
                lease_expires_at IS NOT NULL AS claimed
    )
    SELECT CASE WHEN i.claimed THEN 'claimed' ELSE 'created' END AS kind, i.delivery_id::text AS id,
           i.config_id IS NOT NULL AS is_connector, i.subscription_id::text AS subscription_id, i.store_id, i.event_type,
           CASE WHEN i.claimed THEN i.event_payload ->> 'occurredAt' END AS occurred_at,
           CASE WHEN i.claimed THEN i.event_payload END AS body,
           ${signingColumns(sql)}, i.payload_bytes, NULL::int AS attempt_number, NULL::int AS cycle_attempts,
           NULL::boolean AS replay, s.max_in_flight
    FROM inserted i LEFT JOIN webhook_subscriptions s ON i.claimed AND s.subscription_id = i.subscription_id
    UNION ALL
    SELECT DISTINCT 'matched', n::text, false, NULL::text, NULL::text, NULL::text, NULL::text, NULL::jsonb, NULL::text,
           NULL::int, false, NULL::int, NULL::int, NULL::int, NULL::boolean, NULL::int
    FROM targets
    ${olderRows(sql, claim)}`.pipe(
    persistence("fan-out"),
    Effect.flatMap((rows) => {
      const matched = events.map(() => false)
      const created: Array<NewDelivery> = []
      const claimedRows: Array<FanOutRow> = []
      const olderRowsFound: Array<FanOutRow> = []
      for (const row of rows) {
        if (row.kind === "matched") {
          matched[Number(row.id) - 1] = true
          continue
        }
        if (row.kind === "older") {
          olderRowsFound.push(row)
          continue
        }
        created.push({ deliveryId: row.id, lane: row.is_connector ? "connector" : "webhook" })
        if (row.kind === "claimed") claimedRows.push(row)
      }
      if (claimedRows.length === 0 && olderRowsFound.length === 0) {
        return Effect.succeed<FanOutResult>({ created, claimed: [], matched })
      }
      return Effect.all([decodeOlder(olderRowsFound), decodeClaimed(claimedRows)]).pipe(
        Effect.mapError(() => new PersistenceError({ kind: "Rejected", operation: "fan-out", detail: "unexpected row shape" })),
        Effect.map(([older, fresh]): FanOutResult => ({
          created,
          // The older ones first: they have waited longer.
          claimed: [...older.map((row) => asClaimed(row, row)), ...fresh.map((row) => asClaimed(row, firstAttempt))],
          matched
        }))
      )
    })
  )
}

/** A new delivery's place in its cycle: nothing attempted yet, no replay. */
const firstAttempt = { attempt_number: 0, cycle_attempts: 0, replay: false } as const

/** A delivery claimed at intake, at its place in its cycle; never a probe (open breakers are not claimed here). */
const asClaimed = (
  row: typeof ClaimedAtIntake.Type,
  cycle: { readonly attempt_number: number; readonly cycle_attempts: number; readonly replay: boolean }
): ClaimedDelivery => ({
  delivery_id: row.id,
  lane: "webhook",
  subscription_id: row.subscription_id,
  config_id: null,
  store_id: row.store_id,
  event_type: row.event_type,
  attempt_number: cycle.attempt_number,
  cycle_attempts: cycle.cycle_attempts,
  replay: cycle.replay,
  occurred_at: row.occurred_at,
  body: attemptBody(row.body),
  target_url: row.target_url,
  secret_version: row.secret_version,
  previous_secret_active: row.previous_secret_active,
  probe: false,
  payload_bytes: row.payload_bytes,
  max_in_flight: row.max_in_flight
})
