import { Context, Effect, Layer, Queue } from "effect"
import type { Lane, NewDelivery } from "../../services/DeliveryStore.ts"

/**
 * Deliveries to attempt now (new from the fan-out, or re-triggered), per lane:
 * the lane claims these at once instead of waiting for its next poll, so a
 * first attempt goes out immediately. Losing a signal costs only latency: the
 * poller finds every due delivery in the database anyway.
 */
export interface DeliverySignalsShape {
  readonly signal: (deliveries: ReadonlyArray<NewDelivery>) => Effect.Effect<void>
  readonly queue: (lane: Lane) => Queue.Dequeue<string>
}

export class DeliverySignals extends Context.Tag("integration-service/DeliverySignals")<
  DeliverySignals,
  DeliverySignalsShape
>() {}

const offer = (queue: Queue.Queue<string>, ids: ReadonlyArray<string>) =>
  ids.length === 0 ? Effect.void : Effect.asVoid(queue.offerAll(ids))

export const makeDeliverySignals = Effect.gen(function*() {
  const queues = {
    webhook: yield* Queue.sliding<string>(100_000),
    connector: yield* Queue.sliding<string>(10_000)
  }
  return DeliverySignals.of({
    signal: (deliveries) =>
      Effect.suspend(() => {
        const ids: Record<Lane, Array<string>> = { webhook: [], connector: [] }
        for (const d of deliveries) ids[d.lane].push(d.deliveryId)
        return Effect.zipRight(offer(queues.webhook, ids.webhook), offer(queues.connector, ids.connector))
      }),
    queue: (lane) => queues[lane]
  })
})

export const DeliverySignalsLive = Layer.effect(DeliverySignals, makeDeliverySignals)

/** Attempt these webhook deliveries now (after a re-trigger). */
export const signalWebhooks = (ids: ReadonlyArray<string>) =>
  Effect.flatMap(DeliverySignals, (signals) => signals.signal(ids.map((deliveryId) => ({ deliveryId, lane: "webhook" as const }))))
