import { Context, Effect, Layer, Queue, type Scope } from "effect"
import type { FanOutResult, IntakeClaim, Lane, NewDelivery } from "../../services/DeliveryStore.ts"

/** A fan-out, run with the room the webhook lane gives it to claim what it inserts (or none). */
export type Intake = <E, R>(
  fanOut: (claim: IntakeClaim | undefined) => Effect.Effect<FanOutResult, E, R>
) => Effect.Effect<FanOutResult, E, R>

/**
 * Deliveries to attempt now (new from the fan-out, or re-triggered), per lane:
 * the lane claims these at once instead of waiting for its next poll, so a
 * first attempt goes out immediately. Losing a signal costs only latency: the
 * poller finds every due delivery in the database anyway.
 */
export interface DeliverySignalsShape {
  readonly signal: (deliveries: ReadonlyArray<NewDelivery>) => Effect.Effect<void>
  readonly queue: (lane: Lane) => Queue.Dequeue<string>
  /**
   * Runs a fan-out with the room this instance's webhook lane has for it: what
   * it inserts claimed goes to the lane's workers at once (no claim round
   * trip). Without an engine here (or once it stops), it claims nothing.
   */
  readonly intake: Intake
  /** The webhook lane serves intakes for the lifetime of the scope. */
  readonly serveIntake: (intake: Intake) => Effect.Effect<void, never, Scope.Scope>
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
  let served: Intake | undefined
  return DeliverySignals.of({
    signal: (deliveries) =>
      Effect.suspend(() => {
        const ids: Record<Lane, Array<string>> = { webhook: [], connector: [] }
        for (const d of deliveries) ids[d.lane].push(d.deliveryId)
        return Effect.zipRight(offer(queues.webhook, ids.webhook), offer(queues.connector, ids.connector))
      }),
    queue: (lane) => queues[lane],
    intake: (fanOut) => Effect.suspend(() => (served === undefined ? fanOut(undefined) : served(fanOut))),
    serveIntake: (intake) =>
      Effect.acquireRelease(Effect.sync(() => {
        served = intake
      }), () =>
        Effect.sync(() => {
          served = undefined
        }))
  })
})

export const DeliverySignalsLive = Layer.effect(DeliverySignals, makeDeliverySignals)

/** Attempt these webhook deliveries now (after a re-trigger). */
export const signalWebhooks = (ids: ReadonlyArray<string>) =>
  Effect.flatMap(DeliverySignals, (signals) => signals.signal(ids.map((deliveryId) => ({ deliveryId, lane: "webhook" as const }))))
