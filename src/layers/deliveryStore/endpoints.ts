import type { SqlClient } from "@effect/sql/SqlClient"
import { Duration, Effect } from "effect"
import type { BreakerPolicy, EndpointTally } from "../../domain/webhooks/breaker.ts"
import type { DisabledSubscription, DisableRequest, EndpointChanges } from "../../services/DeliveryStore.ts"
import { persistence } from "../sqlErrors.ts"

/**
 * Switches webhook subscriptions off on the engine's word (a 410 Gone, an
 * endpoint failing for days). Only those still on are returned, so that one
 * disable is announced once however many attempts saw it. Their deliveries
 * are not touched: claims skip inactive subscriptions, and the backlog flows
 * again when an admin switches the subscription back on.
 */
export const disableSubscriptions = (sql: SqlClient) => (requests: ReadonlyArray<DisableRequest>) => {
  // One reason per subscription (the first asked for).
  const byId = new Map<string, string>()
  for (const r of requests) if (!byId.has(r.subscriptionId)) byId.set(r.subscriptionId, r.reason)
  if (byId.size === 0) return Effect.succeed<ReadonlyArray<DisabledSubscription>>([])
  return sql<{ subscription_id: string; store_id: string; reason: string }>`
    UPDATE webhook_subscriptions s SET is_active = false, disabled_reason = u.reason, disabled_at = now(), updated_at = now()
    FROM UNNEST(${[...byId.keys()]}::uuid[], ${[...byId.values()]}::text[]) AS u(subscription_id, reason)
    WHERE s.subscription_id = u.subscription_id AND s.is_active
    RETURNING s.subscription_id::text AS subscription_id, s.store_id, u.reason`.pipe(
    persistence("disable subscriptions"),
    Effect.map((rows) => rows.map((r) => ({ subscriptionId: r.subscription_id, storeId: r.store_id, reason: r.reason })))
  )
}

/** What `endpointHealth` answers per endpoint (its `health` relation). */
export interface HealthRow {
  readonly subscription_id: string
  readonly store_id: string
  readonly failing_since: Date
  readonly is_active: boolean
  readonly consecutive_failures: number
  readonly too_long: boolean | null
  readonly breaker: "opened" | "closed" | null
  /** Switched off by this statement (its `tally` row had a `gone_reason` and it was on). */
  readonly disabled_now: boolean | null
  readonly gone_reason: string | null
}

/** The tallies as a `tallied` relation (of which the caller makes the `tally` that `endpointHealth` reads). */
export const tallyRows = (sql: SqlClient, tallies: ReadonlyArray<EndpointTally>) => {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString())
  return sql`tallied AS (
        SELECT * FROM UNNEST(${tallies.map((t) => t.subscriptionId)}::uuid[], ${tallies.map((t) => t.succeeded)}::boolean[],
                             ${tallies.map((t) => t.failures)}::int[], ${tallies.map((t) => iso(t.lastSuccessAt))}::timestamptz[],
                             ${tallies.map((t) => iso(t.firstFailureAt))}::timestamptz[],
                             ${tallies.map((t) => iso(t.lastFailureAt))}::timestamptz[])
          AS t(subscription_id, succeeded, failures, last_success_at, first_failure_at, last_failure_at)
      )`
}

/**
 * Brings the endpoints' health up to date with a `tally` relation of attempts:
 * failures in a row, last success and failure, failing since; the breaker
 * opens at the threshold (and a failed probe keeps it open for another
 * interval), a success closes it; an endpoint with a `gone_reason` (a 410) is
 * switched off. The `health` relation answers, per endpoint, whether it has
 * failed without a success for longer than the policy allows (`too_long`: the
 * caller disables it), whether its breaker opened or closed, and whether this
 * switched it off. Rows are locked in id order first (in the same statement),
 * so two instances' writers never deadlock on the same endpoints.
 */
export const endpointHealth = (sql: SqlClient, policy: BreakerPolicy) => {
  const probeSeconds = Duration.toSeconds(policy.probeInterval)
  const disableSeconds = Duration.toSeconds(policy.disableAfter)
  return sql`locked AS (
        SELECT subscription_id FROM webhook_subscriptions WHERE subscription_id IN (SELECT subscription_id FROM tally)
        ORDER BY subscription_id FOR UPDATE
      ), next AS (
        SELECT t.*, CASE WHEN t.succeeded THEN t.failures ELSE s.consecutive_failures + t.failures END AS in_a_row,
               s.paused_until IS NOT NULL AS was_open, t.gone_reason IS NOT NULL AND s.is_active AS disables
        FROM tally t JOIN locked USING (subscription_id) JOIN webhook_subscriptions s USING (subscription_id)
      ), health AS (
        UPDATE webhook_subscriptions s SET
          is_active = s.is_active AND NOT n.disables,
          disabled_reason = CASE WHEN n.disables THEN n.gone_reason ELSE s.disabled_reason END,
          disabled_at = CASE WHEN n.disables THEN now() ELSE s.disabled_at END,
          updated_at = CASE WHEN n.disables THEN now() ELSE s.updated_at END,
          consecutive_failures = n.in_a_row,
          last_success_at = COALESCE(n.last_success_at, s.last_success_at),
          last_failure_at = GREATEST(n.last_failure_at, s.last_failure_at),
          failing_since = CASE WHEN n.in_a_row = 0 THEN NULL
                               WHEN n.succeeded THEN n.first_failure_at
                               ELSE COALESCE(s.failing_since, n.first_failure_at) END,
          paused_until = CASE WHEN n.in_a_row >= ${policy.failureThreshold}::int
                                THEN now() + ${probeSeconds}::float8 * interval '1 second'
                              WHEN n.succeeded THEN NULL
                              ELSE s.paused_until END
        FROM next n
        WHERE s.subscription_id = n.subscription_id
        RETURNING s.subscription_id::text AS subscription_id, s.store_id, s.failing_since, s.is_active, s.consecutive_failures,
                  s.failing_since <= now() - ${disableSeconds}::float8 * interval '1 second' AS too_long,
                  CASE WHEN NOT n.was_open AND s.paused_until IS NOT NULL THEN 'opened'
                       WHEN n.was_open AND s.paused_until IS NULL THEN 'closed' END AS breaker,
                  n.disables AS disabled_now, n.gone_reason
      )`
}

/** The `health` rows as the engine acts on them. */
export const changesOf = (rows: ReadonlyArray<HealthRow>): EndpointChanges => ({
  disabled: rows.flatMap((r) =>
    r.disabled_now === true ? [{ subscriptionId: r.subscription_id, storeId: r.store_id, reason: r.gone_reason ?? "" }] : []
  ),
  failing: rows
    .filter((r) => r.is_active && r.too_long === true)
    .map((r) => ({ subscriptionId: r.subscription_id, storeId: r.store_id, failingSince: r.failing_since })),
  breakers: rows.flatMap((r) =>
    r.breaker === null ? [] : [{ subscriptionId: r.subscription_id, storeId: r.store_id, change: r.breaker, consecutiveFailures: r.consecutive_failures }]
  )
})
