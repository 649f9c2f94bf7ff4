import { Context, Effect, Layer, Queue } from "effect"
import type { DeliveryId } from "../../domain/webhooks/models.ts"

/**
 * Deliveries to attempt now (new from the fan-out, or re-triggered): the
 * workers claim these at once instead of waiting for the next poll, so a first
 * attempt goes out immediately. Losing a signal costs only latency: the poller
 * finds every due delivery in the database anyway.
 */
export class DeliverySignals extends Context.Tag("integration-service/DeliverySignals")<
  DeliverySignals,
  Queue.Queue<DeliveryId>
>() {}

export const DeliverySignalsLive = Layer.effect(DeliverySignals, Queue.sliding<DeliveryId>(100_000))

export const signalDeliveries = (ids: ReadonlyArray<DeliveryId>) =>
  ids.length === 0 ? Effect.void : Effect.flatMap(DeliverySignals, (queue) => queue.offerAll(ids))
