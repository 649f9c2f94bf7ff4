import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { BreakerPolicy, EndpointTally } from "../../domain/webhooks/breaker.ts"
import type {
  AttemptResult,
  DisabledSubscription,
  DisableRequest,
  EndpointChanges,
  OutboxMessage
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
 * history and announcements (see `resultsRecorded`), and their endpoints'
 * health from `tallies`: only for endpoints with a result recorded, so that
 * the same batch written again (after an outage cut the writer off from the
 * answer) counts nothing twice. The subscriptions' rows are locked only while
 * it runs, so claims wait on them for the shortest time. Answers the results
 * recorded and what changed for their endpoints.
 */
export const recordWebhookAttempts = (sql: SqlClient) =>
(
  results: ReadonlyArray<AttemptResult>,
  options: {
    readonly announce: (result: AttemptResult) => ReadonlyArray<OutboxMessage>
    readonly tallies: ReadonlyArray<EndpointTally>
    readonly policy: BreakerPolicy
  }
) =>
  results.length === 0
    ? Effect.succeed({ recorded: [], changes: { failing: [], breakers: [] } satisfies EndpointChanges })
    : sql<Row>`
    WITH ${resultsRecorded(sql, results, options.announce)}, ${tallyRows(sql, options.tallies, "tallied")},
      tally AS (SELECT * FROM tallied WHERE subscription_id IN (SELECT subscription_id FROM updated)),
      ${endpointHealth(sql, options.policy)}
    SELECT 'recorded' AS kind, delivery_id::text AS delivery_id, NULL::text AS subscription_id, NULL::text AS store_id,
           NULL::timestamptz AS failing_since, NULL::boolean AS is_active, NULL::int AS consecutive_failures,
           NULL::boolean AS too_long, NULL::text AS breaker
    FROM updated
    UNION ALL
    SELECT 'endpoint', NULL, subscription_id, store_id, failing_since, is_active, consecutive_failures, too_long, breaker
    FROM health`.pipe(
      persistence("record attempts"),
      Effect.map((rows) => ({
        recorded: keptResults(results, rows.flatMap((r) => (r.kind === "recorded" && r.delivery_id !== null ? [r.delivery_id] : []))),
        changes: changesOf(rows.filter((r) => r.kind === "endpoint"))
      }))
    )

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
