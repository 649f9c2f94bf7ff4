import { Effect } from "effect"
import { Conflict, NotFound } from "../../domain/api/errors.ts"
import type { DeliveryRecord, RetryOutcome } from "../../services/DeliveriesRepo.ts"

/** How the answers to a re-trigger name what was re-triggered. */
export interface RetryWords {
  /** For 404: `<thing> not found`. */
  readonly thing: string
  /** For 409: `a <status> <noun> cannot be re-triggered`. */
  readonly noun: string
  /** For 409 while an attempt holds it. */
  readonly inFlight: string
}

/**
 * A re-trigger's outcome as the API answers it: 404 or 409 in the words of what was re-triggered,
 * or the re-triggered record once its lane is signalled (so a worker takes it now, not at its next poll).
 */
export const answerRetry = <E, R>(
  outcome: RetryOutcome,
  words: RetryWords,
  signal: (ids: ReadonlyArray<string>) => Effect.Effect<unknown, E, R>
): Effect.Effect<DeliveryRecord, NotFound | Conflict | E, R> => {
  switch (outcome._tag) {
    case "NotFound":
      return Effect.fail(NotFound.of(words.thing))
    case "NotRetriable":
      return Effect.fail(Conflict.of(`a ${outcome.status} ${words.noun} cannot be re-triggered`))
    case "InFlight":
      return Effect.fail(Conflict.of(words.inFlight))
    case "Retried":
      return Effect.as(signal([outcome.delivery.id]), outcome.delivery)
  }
}
