import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { storableOrNull } from "../../domain/storable.ts"
import type { AttemptResult, OutboxMessage, Outcome, Postponement } from "../../services/DeliveryStore.ts"
import type { PersistenceError } from "../../services/Persistence.ts"
import { inTransaction, persistence } from "../sqlErrors.ts"
import { waitingById } from "./waitingById.ts"

/** What is kept of a receiver's answer and of an error: enough to debug, not a copy of their page. */
const maxBodyChars = 4096
const maxErrorChars = 1000

/**
 * The common table expressions that record attempt results: the deliveries'
 * new state (`updated`: those the guard let through), their attempt history
 * and their announcements (`announce` names a result's outbox messages), the
 * last two only for the results recorded. Text from outside is made storable
 * first: one receiver's NUL byte must not fail everyone's batch. A result whose
 * delivery moved on meanwhile (re-triggered, or recorded by another worker
 * after a lease expired) is dropped: the attempt_number guard.
 */
export const resultsRecorded = (
  sql: SqlClient,
  results: ReadonlyArray<AttemptResult>,
  announce: (result: AttemptResult) => ReadonlyArray<OutboxMessage>
) => {
  const col = <A>(f: (r: AttemptResult) => A) => results.map(f)
  const body = (r: AttemptResult) => storableOrNull(r.responseBody, maxBodyChars)
  const error = (r: AttemptResult) => storableOrNull(r.error, maxErrorChars)
  const messages = results.flatMap((r) => announce(r).map((m) => ({ deliveryId: r.deliveryId, ...m })))
  const msg = <A>(f: (m: (typeof messages)[number]) => A) => messages.map(f)
  return sql`u AS (
        SELECT * FROM UNNEST(${col((r) => r.deliveryId)}::uuid[], ${col((r) => r.status)}::text[],
                             ${col((r) => r.attemptNumber)}::int[], ${col((r) => r.httpStatus)}::int[],
                             ${col(body)}::text[], ${col((r) => r.retryInMs)}::bigint[], ${col((r) => r.cycleAttempts)}::int[],
                             ${col((r) => r.startedAt.toISOString())}::timestamptz[], ${col((r) => Math.round(r.durationMs))}::int[],
                             ${col(error)}::text[])
          AS u(delivery_id, status, attempt_number, http_status, response_body, retry_in_ms, cycle_attempts,
               started_at, duration_ms, error)
      ), updated AS (
        UPDATE webhook_deliveries d SET
          status = u.status::webhook_delivery_status,
          attempt_number = u.attempt_number,
          cycle_attempts = u.cycle_attempts,
          http_status = u.http_status,
          response_body = u.response_body,
          next_retry_at = CASE WHEN u.retry_in_ms IS NULL THEN NULL
                               ELSE now() + u.retry_in_ms * interval '1 millisecond' END,
          delivered_at = CASE WHEN u.status = 'DELIVERED' THEN now() ELSE d.delivered_at END,
          lease_expires_at = NULL,
          lease_owner = NULL,
          updated_at = now()
        FROM u
        WHERE d.delivery_id = u.delivery_id AND d.attempt_number = u.attempt_number - 1
          AND ${waitingById(sql)}
        RETURNING d.delivery_id, d.subscription_id
      ), history AS (
        INSERT INTO webhook_delivery_attempts
          (attempt_id, delivery_id, attempt_number, started_at, duration_ms, http_status, response_body, error)
        SELECT gen_random_uuid(), u.delivery_id, u.attempt_number, u.started_at, u.duration_ms, u.http_status,
               u.response_body, u.error
        FROM u JOIN updated ON updated.delivery_id = u.delivery_id
      ), announced AS (
        INSERT INTO kafka_outbox (topic, message_key, value)
        SELECT m.topic, m.message_key, m.value
        FROM UNNEST(${msg((m) => m.deliveryId)}::uuid[], ${msg((m) => m.topic)}::text[], ${msg((m) => m.key)}::text[],
                    ${msg((m) => m.value)}::text[]) WITH ORDINALITY AS m(delivery_id, topic, message_key, value, n)
          JOIN updated ON updated.delivery_id = m.delivery_id
        ORDER BY m.n
      )`
}

/** Only the results the guard let through. */
export const keptResults = (results: ReadonlyArray<AttemptResult>, ids: ReadonlyArray<string>) => {
  const kept = new Set(ids)
  return results.filter((r) => kept.has(r.deliveryId))
}

/**
 * Records a batch of outcomes in one transaction: the results (see
 * `resultsRecorded`: one statement, one round trip), postponements (the claim
 * let go of, the attempt count unchanged), and whatever the lanes write
 * alongside (connector sync-log rows, endpoints switched off).
 */
export const record = (sql: SqlClient) =>
(
  outcomes: ReadonlyArray<Outcome>,
  alongside: (recorded: ReadonlyArray<AttemptResult>) => Effect.Effect<void, PersistenceError>
) => {
  const results: Array<AttemptResult> = []
  const postponed: Array<Postponement> = []
  for (const outcome of outcomes) {
    if (outcome._tag === "Attempted") results.push(outcome.result)
    else postponed.push(outcome.postponement)
  }
  if (outcomes.length === 0) return Effect.succeed(0)

  const recordResults = Effect.gen(function*() {
    if (results.length === 0) return 0
    const updated = yield* sql<{ delivery_id: string }>`
      WITH ${resultsRecorded(sql, results, () => [])}
      SELECT delivery_id::text AS delivery_id FROM updated`.pipe(persistence("record attempts"))
    const recorded = keptResults(results, updated.map((r) => r.delivery_id))
    if (recorded.length === 0) return 0
    yield* alongside(recorded)
    return recorded.length
  })

  const recordPostponed = postponed.length === 0 ? Effect.void : sql`
    UPDATE webhook_deliveries d SET
      lease_expires_at = NULL, lease_owner = NULL,
      next_retry_at = now() + u.retry_in_ms * interval '1 millisecond', updated_at = now()
    FROM UNNEST(${postponed.map((p) => p.deliveryId)}::uuid[], ${postponed.map((p) => p.attemptNumber)}::int[],
                ${postponed.map((p) => p.retryInMs)}::bigint[]) AS u(delivery_id, attempt_number, retry_in_ms)
    WHERE d.delivery_id = u.delivery_id AND d.attempt_number = u.attempt_number
      AND ${waitingById(sql)} AND d.lease_expires_at IS NOT NULL`.pipe(
    persistence("record postponements"),
    Effect.asVoid
  )

  return inTransaction(sql, "record attempts")(Effect.zipLeft(recordResults, recordPostponed))
}
