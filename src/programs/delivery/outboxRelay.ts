import { Array as Arr, Effect, Metric, Queue, Record } from "effect"
import type { DeliveryStoreShape, RelayedMessage, RelayLimits, RelayVerdict } from "../../services/DeliveryStore.ts"
import { type KafkaError, type KafkaShape } from "../../services/Kafka.ts"
import { outboxPublished, outboxSetAside } from "./metrics.ts"
import { supervised } from "./supervised.ts"
import { type DeliveryTimingsShape, millis } from "./timings.ts"

export interface RelayDeps {
  readonly store: DeliveryStoreShape
  readonly kafka: KafkaShape
  readonly timings: DeliveryTimingsShape
  readonly limits: RelayLimits
}

/** The least time between two woken rounds. */
const roundSpacing = "100 millis"

const byTopic = (messages: ReadonlyArray<RelayedMessage>) => Record.toEntries(Arr.groupBy(messages, (m) => m.topic))

/**
 * Publishes one round's messages, a topic at a time. When Kafka refuses
 * messages for what they are (too large for the broker, invalid), each is tried
 * alone and the ones refused again are set aside: one message that can never
 * be sent must not hold up every message behind it. Any other failure (the
 * broker unreachable) fails the round: it is tried again, nothing is lost.
 */
const publishRound = (kafka: KafkaShape) => (messages: ReadonlyArray<RelayedMessage>) =>
  Effect.gen(function*() {
    const setAside: Array<{ id: string; reason: string }> = []
    const send = (topic: string, batch: ReadonlyArray<RelayedMessage>) =>
      kafka.publish(topic, batch.map((m) => ({ key: m.key, value: m.value })))
    for (const [topic, batch] of byTopic(messages)) {
      const whole = yield* Effect.either(send(topic, batch))
      if (whole._tag === "Right") continue
      if (whole.left.permanent !== true) return yield* Effect.fail(whole.left)
      for (const message of batch) {
        const alone = yield* Effect.either(send(topic, [message]))
        if (alone._tag === "Right") continue
        if (alone.left.permanent !== true) return yield* Effect.fail(alone.left)
        setAside.push({ id: message.id, reason: `refused by Kafka: ${alone.left.reason}`.slice(0, 500) })
      }
    }
    yield* Metric.incrementBy(outboxPublished, messages.length - setAside.length)
    return { setAside } satisfies RelayVerdict
  })

/**
 * Relays the Kafka outbox for the lifetime of the scope: at once when woken
 * (a result was recorded), else every `outboxInterval`, in rounds while there
 * is more. Rounds are capped by bytes; what can never be published is moved
 * aside (logged, counted, listable) and the rest flows. The outbox is drained
 * once more at shutdown, after the relay has stopped.
 */
export const runOutboxRelay = (deps: RelayDeps) =>
  Effect.gen(function*() {
    const wake = yield* Queue.sliding<void>(1)
    // One round (publish, then delete in the same transaction) is never cut in half by
    // shutdown: interrupted after the publish, the rows would stay and go out twice.
    const round: Effect.Effect<boolean, unknown> = Effect.uninterruptible(
      deps.store.relayOutbox<KafkaError>(deps.limits, publishRound(deps.kafka)).pipe(
        Effect.tap(({ setAside }) =>
          Effect.forEach(setAside, (aside) =>
            Effect.logError("an outbox message Kafka can never accept was set aside (kafka_outbox_set_aside)").pipe(
              Effect.annotateLogs({ messageId: aside.id, why: aside.reason }),
              Effect.zipRight(Metric.increment(outboxSetAside))
            ), { discard: true })
        ),
        Effect.map((round) => round.more)
      )
    )
    // Rounds follow each other while one is cut short; a round that took all there was ends the drain.
    const drain = round.pipe(Effect.repeat({ while: (more) => more }))

    // The final drain runs once the relay has stopped (after its round in progress):
    // run alongside it, the drain would skip the rows that round holds locked.
    yield* Effect.addFinalizer(() => Effect.ignore(drain))
    yield* Effect.forkScoped(
      supervised(
        "outbox relay",
        wake.take.pipe(
          Effect.timeout(millis(deps.timings.outboxInterval)),
          Effect.ignore,
          Effect.zipRight(drain),
          // Woken by every recorded batch: a short pause lets several batches' messages go in one round.
          Effect.zipRight(Effect.sleep(roundSpacing))
        )
      )
    )
    return { wake: Effect.asVoid(wake.offer(undefined)) }
  })
