import { Context, type Effect } from "effect"
import type { AttemptResult, ClaimedDelivery, Lane, Outcome } from "../../services/DeliveryStore.ts"
import type { PersistenceError } from "../../services/Persistence.ts"

/**
 * What a kind of delivery plugs into the engine: webhooks (a signed POST) and
 * connectors (a marketplace run) each provide one. The engine claims, leases,
 * attempts with `attempt`, and records (with `alongside` in the recording
 * transaction, or through the lane's own `recordAttempts`); the lane decides
 * what an attempt means and what else is written with its result (the Kafka
 * outbox, endpoint health, the connector sync log).
 */
export interface DeliveryLane {
  readonly lane: Lane
  /** Attempts in flight at once in this instance, for this lane only. */
  readonly concurrency: number
  /** How long a claim holds between renewals (it is renewed while held). */
  readonly leaseSeconds: number
  /**
   * One attempt. An outage on our side answers `Postponed`; anything the
   * target did is an `Attempted` result. It may still fail or die (a bug): the
   * engine turns that into a failed attempt of this delivery via `failedResult`.
   */
  readonly attempt: (delivery: ClaimedDelivery) => Effect.Effect<Outcome, unknown>
  /** The failed attempt recorded when `attempt` itself failed (`error` says why, never a secret). */
  readonly failedResult: (delivery: ClaimedDelivery, error: string, startedAt: Date, durationMs: number) => AttemptResult
  /** Written in the same transaction as this lane's recorded results (when the writer records them). */
  readonly alongside?: (recorded: ReadonlyArray<AttemptResult>) => Effect.Effect<void, PersistenceError>
  /**
   * A lane that records its attempt results itself (webhooks: one statement,
   * no transaction) instead of in the writer's transaction; answers how many
   * were recorded. Given results already recorded, it records nothing again.
   */
  readonly recordAttempts?: (results: ReadonlyArray<AttemptResult>) => Effect.Effect<number, PersistenceError>
}

/**
 * The outcome of an attempt not made because of an outage on our side (the
 * database, Vault): tried again after `retryInMs`, its attempt count unchanged.
 */
export const postponed = (delivery: ClaimedDelivery, retryInMs: number, reason: string): Outcome => ({
  _tag: "Postponed",
  postponement: { deliveryId: delivery.delivery_id, attemptNumber: delivery.attempt_number, retryInMs, reason }
})

/** The lanes the engine runs (main.ts provides webhooks' and connectors'). */
export class DeliveryLanes extends Context.Tag("integration-service/DeliveryLanes")<
  DeliveryLanes,
  ReadonlyArray<DeliveryLane>
>() {}
