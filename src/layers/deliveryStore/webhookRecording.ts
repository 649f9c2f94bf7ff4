import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type {
  AttemptResult,
  DisabledSubscription,
  DisableRequest,
  EndpointChanges,
  GoneEndpoint,
  OutboxMessage,
  WebhookAttemptsRecording
} from "../../services/DeliveryStore.ts"
import { inTransaction, persistence } from "../sqlErrors.ts"
import { changesOf, disableSubscriptions, endpointHealth, type HealthRow, tallyRows } from "./endpoints.ts"
import { enqueueOutbox } from "./outbox.ts"
import { keptResults, resultsRecorded } from "./recording.ts"

/** A recorded result (its delivery id) or an endpoint's health, in one answer. */
type Row = HealthRow & { readonly kind: "recorded" | "endpoint"; readonly delivery_id: string | null }

/**
 * Webhook attempt results in one statement, so one round trip and no explicit
 * transaction (a statement is atomic by itself): the deliveries' new state,
 * history and announcements (see `resultsRecorded`), the endpoints that
 * answered 410 switched off and announced (with the result, so the delivery is
 * never claimed again meanwhile), and their endpoints'
 * health from `tallies`: only for endpoints with a result recorded, so that
 * the same batch written again (after an outage cut the writer off from the
 * answer) counts nothing twice. The subscriptions' rows are locked only while
 * it runs, so claims wait on them for the shortest time. Answers the results
 * recorded and what changed for their endpoints.
 */
export const recordWebhookAttempts = (sql: SqlClient) =>
(
  results: ReadonlyArray<AttemptResult>,
  options: WebhookAttemptsRecording
) => {
  if (results.length === 0) {
    return Effect.succeed({ recorded: [], changes: { disabled: [], failing: [], breakers: [] } satisfies EndpointChanges })
  }
  const gone = options.gone
  const g = <A>(f: (e: GoneEndpoint) => A) => gone.map(f)
  return sql<Row>`
    WITH ${resultsRecorded(sql, results, options.announce)}, ${tallyRows(sql, options.tallies)},
      -- The first recorded 410 of each endpoint: it is switched off by this statement.
      gone AS (
        SELECT DISTINCT ON (g.subscription_id) g.*
        FROM UNNEST(${g((e) => e.subscriptionId)}::uuid[], ${g((e) => e.deliveryId)}::uuid[], ${g((e) => e.reason)}::text[],
                    ${g((e) => e.announcement.topic)}::text[], ${g((e) => e.announcement.key)}::text[],
                    ${g((e) => e.announcement.value)}::text[]) WITH ORDINALITY
          AS g(subscription_id, delivery_id, reason, topic, message_key, value, n)
          JOIN updated USING (delivery_id)
        ORDER BY g.subscription_id, g.n
      ),
      tally AS (
        SELECT subscription_id, coalesce(t.succeeded, false) AS succeeded, coalesce(t.failures, 0) AS failures,
               t.last_success_at, t.first_failure_at, t.last_failure_at, gone.reason AS gone_reason
        FROM (SELECT * FROM tallied WHERE subscription_id IN (SELECT subscription_id FROM updated)) t
          FULL JOIN gone USING (subscription_id)
      ),
      ${endpointHealth(sql, options.policy)},
      gone_announced AS (
        INSERT INTO kafka_outbox (topic, message_key, value)
        SELECT gone.topic, gone.message_key, gone.value
        FROM gone JOIN health ON health.subscription_id = gone.subscription_id::text
        WHERE health.disabled_now
      )
    SELECT 'recorded' AS kind, delivery_id::text AS delivery_id, NULL::text AS subscription_id, NULL::text AS store_id,
           NULL::timestamptz AS failing_since, NULL::boolean AS is_active, NULL::int AS consecutive_failures,
           NULL::boolean AS too_long, NULL::text AS breaker, NULL::boolean AS disabled_now, NULL::text AS gone_reason
    FROM updated
    UNION ALL
    SELECT 'endpoint', NULL, subscription_id, store_id, failing_since, is_active, consecutive_failures, too_long, breaker,
           disabled_now, gone_reason
    FROM health`.pipe(
    persistence("record attempts"),
    Effect.map((rows) => ({
      recorded: keptResults(results, rows.flatMap((r) => (r.kind === "recorded" && r.delivery_id !== null ? [r.delivery_id] : []))),
      changes: changesOf(rows.filter((r) => r.kind === "endpoint"))
    }))
  )
}

/** Switches subscriptions off and announces each one switched off, in one transaction. */
export const disableAnnounced = (sql: SqlClient) =>
(
  requests: ReadonlyArray<DisableRequest>,
  announce: (disabled: DisabledSubscription) => OutboxMessage
) =>
  inTransaction(sql, "disable subscriptions")(Effect.gen(function*() {
    const disabled = yield* disableSubscriptions(sql)(requests)
    yield* enqueueOutbox(sql)(disabled.map(announce))
    return disabled
  }))
