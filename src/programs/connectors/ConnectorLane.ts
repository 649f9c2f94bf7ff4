import { Clock, Duration, Effect, Either, Option, Schema } from "effect"
import { EventEnvelopeFromJson } from "../../domain/EventEnvelope.ts"
import { delayAfterFailedAttempt } from "../../domain/webhooks/retrySchedule.ts"
import type { AttemptResult, ClaimedDelivery, Outcome } from "../../services/DeliveryStore.ts"
import { type DeliveryLane, postponed } from "../delivery/DeliveryLane.ts"
import { countDefect } from "../delivery/metrics.ts"
import { DeliveryTimings, millis } from "../delivery/timings.ts"
import { ConnectorError } from "./ConnectorAdapter.ts"
import { ConnectorConfigsRepo } from "../../services/ConnectorConfigsRepo.ts"
import { ConnectorRuntime } from "./ConnectorRuntime.ts"

const decodeEnvelope = Schema.decodeUnknownEither(EventEnvelopeFromJson)

/** A failed run's sync-log entity: the event's own prefix (`product` of product.updated). */
const entityOf = (eventType: string) => eventType.split(".")[0] ?? eventType

const runResult = (
  delivery: ClaimedDelivery,
  configId: string,
  startedAt: Date,
  durationMs: number,
  outcome: Pick<AttemptResult, "connector" | "error" | "status" | "retryInMs" | "reason">
): AttemptResult => ({
  deliveryId: delivery.delivery_id,
  subscriptionId: null,
  storeId: delivery.store_id,
  eventType: delivery.event_type,
  attemptNumber: delivery.attempt_number + 1,
  cycleAttempts: delivery.cycle_attempts + 1,
  startedAt,
  durationMs,
  httpStatus: null,
  responseBody: null,
  ...outcome,
  connector: outcome.connector ?? { configId, entityType: entityOf(delivery.event_type), recordCount: 0 }
})

/** A failed run: retryable ones (and unexpected failures) follow the retry table, final ones are dead-lettered. */
const failed = (delivery: ClaimedDelivery, configId: string, error: ConnectorError | string, startedAt: Date, durationMs: number) => {
  const retryable = typeof error === "string" ? true : error.retryable
  const next = retryable ? delayAfterFailedAttempt(delivery.cycle_attempts + 1) : Option.none()
  const summary = (typeof error === "string" ? error : `${error.kind}: ${error.message}`).slice(0, 1000)
  return runResult(delivery, configId, startedAt, durationMs, {
    connector: null,
    error: summary,
    status: Option.isSome(next) ? "FAILED" : "DEAD_LETTERED",
    retryInMs: Option.match(next, { onNone: () => null, onSome: Duration.toMillis }),
    reason: Option.isSome(next) ? null : summary
  })
}

/**
 * Connector runs in the engine: the adapter handles the event. A retryable
 * failure (throttling, 5xx, network) waits on the retry table, a final one (a
 * 4xx with the marketplace's message, an invalid submission, missing
 * credentials) is dead-lettered at once: retrying would not change it. Our own
 * database being unreachable postpones the run instead. Every recorded run is
 * an OUTBOUND connector_sync_log row, written with it.
 */
export const makeConnectorLane = Effect.gen(function*() {
  const runtime = yield* ConnectorRuntime
  const timings = yield* DeliveryTimings
  const configs = yield* ConnectorConfigsRepo
  const postponeMs = millis(timings.postponeDelay)

  const attempt = (delivery: ClaimedDelivery): Effect.Effect<Outcome, unknown> =>
    Effect.gen(function*() {
      const configId = delivery.config_id ?? ""
      const startedMs = yield* Clock.currentTimeMillis
      const startedAt = new Date(startedMs)
      const stored = yield* Effect.either(configs.findById(configId))
      if (Either.isLeft(stored)) {
        return postponed(delivery, postponeMs, "the database is unreachable")
      }
      const outcome = yield* Effect.gen(function*() {
        if (Option.isNone(stored.right)) {
          return yield* new ConnectorError({ kind: "Misconfigured", message: "the connector config no longer exists" })
        }
        const event = decodeEnvelope(delivery.body)
        if (Either.isLeft(event)) {
          return yield* new ConnectorError({ kind: "Invalid", message: "the stored event is not an event envelope" })
        }
        return yield* runtime.handleEvent(stored.right.value, event.right)
      }).pipe(Effect.either)
      const durationMs = (yield* Clock.currentTimeMillis) - startedMs
      if (Either.isLeft(outcome) && outcome.left.kind === "OurOutage") {
        return postponed(delivery, postponeMs, "the secret store is unreachable")
      }
      if (Either.isLeft(outcome)) {
        // A bug in an adapter, caught by the runtime: counted with the engine's own caught defects.
        if (outcome.left.kind === "Defect") yield* countDefect("connector")
        return { _tag: "Attempted", result: failed(delivery, configId, outcome.left, startedAt, durationMs) } satisfies Outcome
      }
      return {
        _tag: "Attempted",
        result: runResult(delivery, configId, startedAt, durationMs, {
          connector: { configId, entityType: outcome.right.entityType, recordCount: outcome.right.recordCount },
          error: null,
          status: "DELIVERED",
          retryInMs: null,
          reason: null
        })
      } satisfies Outcome
    }).pipe(
      Effect.withSpan("connectors.outbound", {
        attributes: { "connector.config_id": delivery.config_id ?? "", "connector.attempt": delivery.attempt_number + 1 }
      })
    )

  return {
    lane: "connector",
    concurrency: timings.connectorConcurrency,
    leaseSeconds: timings.connectorLeaseSeconds,
    attempt,
    failedResult: (delivery, error, startedAt, durationMs) => failed(delivery, delivery.config_id ?? "", error, startedAt, durationMs),
    alongside: configs.recordOutboundRuns
  } satisfies DeliveryLane
})
