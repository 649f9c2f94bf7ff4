import { Duration, Effect, Either, Option, Schema } from "effect"
import { EventEnvelopeFromJson } from "../../domain/EventEnvelope.ts"
import { delayAfterFailedAttempt } from "../../domain/webhooks/retrySchedule.ts"
import type { AttemptResult, ClaimedDelivery } from "../webhooks/DeliveriesRepo.ts"
import { ConnectorError } from "./ConnectorAdapter.ts"
import { ConnectorConfigsRepo } from "./ConnectorConfigsRepo.ts"
import { ConnectorRuntime } from "./ConnectorRuntime.ts"

const decodeEnvelope = Schema.decodeUnknownEither(EventEnvelopeFromJson)

/**
 * One connector run for a claimed delivery: the adapter handles the event;
 * a retryable failure (throttling, 5xx, network) waits on the retry table, a
 * final one (a 4xx with the marketplace's message, an invalid submission,
 * missing credentials) is dead-lettered at once — retrying would not change it.
 */
export const attemptConnectorRun = (delivery: ClaimedDelivery, configId: string) =>
  Effect.gen(function*() {
    const runtime = yield* ConnectorRuntime
    const startedAt = new Date()
    const attemptNumber = delivery.attempt_number + 1
    const fallbackEntity = delivery.event_type.split(".")[0] ?? delivery.event_type

    const outcome = yield* Effect.gen(function*() {
      // The repository fails typed now; until the delivery engine tells our outages apart, a
      // database error here is a retryable failure of this run (it used to kill the worker).
      const stored = yield* ConnectorConfigsRepo.findById(configId).pipe(
        Effect.mapError(() => new ConnectorError({ kind: "Unavailable", message: "the database is unavailable" }))
      )
      if (Option.isNone(stored)) {
        return yield* new ConnectorError({ kind: "Misconfigured", message: "the connector config no longer exists" })
      }
      const event = decodeEnvelope(delivery.body)
      if (Either.isLeft(event)) {
        return yield* new ConnectorError({ kind: "Invalid", message: "the stored event is not an event envelope" })
      }
      return yield* runtime.handleEvent(stored.value, event.right)
    }).pipe(Effect.either)

    const durationMs = Date.now() - startedAt.getTime()
    const base = {
      deliveryId: delivery.delivery_id,
      subscriptionId: null,
      storeId: delivery.store_id,
      eventType: delivery.event_type,
      attemptNumber,
      startedAt,
      durationMs,
      httpStatus: null,
      responseBody: null
    }
    if (Either.isRight(outcome)) {
      return {
        ...base,
        connector: { configId, entityType: outcome.right.entityType, recordCount: outcome.right.recordCount },
        error: null,
        status: "DELIVERED",
        retryInMs: null,
        reason: null
      } satisfies AttemptResult
    }
    const error = outcome.left
    const next = error.retryable ? delayAfterFailedAttempt(attemptNumber) : Option.none()
    const summary = `${error.kind}: ${error.message}`.slice(0, 1000)
    return {
      ...base,
      connector: { configId, entityType: fallbackEntity, recordCount: 0 },
      error: summary,
      status: Option.isSome(next) ? "FAILED" : "DEAD_LETTERED",
      retryInMs: Option.match(next, { onNone: () => null, onSome: Duration.toMillis }),
      reason: Option.isSome(next) ? null : summary
    } satisfies AttemptResult
  }).pipe(
    Effect.withSpan("connectors.outbound", {
      attributes: { "connector.config_id": configId, "connector.attempt": delivery.attempt_number + 1 }
    })
  )
