import { Effect, Either, Layer, Schema } from "effect"
import { EventEnvelopeFromJson } from "../../domain/EventEnvelope.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { Kafka, type IncomingMessage } from "../../services/Kafka.ts"
import { insertDeliveriesForEvent } from "./DeliveriesRepo.ts"
import { signalDeliveries } from "./DeliverySignals.ts"

const decodeEnvelope = Schema.decodeUnknownEither(EventEnvelopeFromJson)
const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * Turns one platform event into its deliveries. A message that does not decode
 * is logged and skipped (returning success commits past it, so it never blocks
 * its partition); a database failure fails the handler, so the offset stays
 * uncommitted and the message comes again.
 */
export const handleEventMessage = (message: IncomingMessage) =>
  Effect.gen(function*() {
    const text = Either.try(() => (message.value === null ? "" : utf8.decode(message.value)))
    const decoded = Either.flatMap(text, (t) => Either.mapLeft(decodeEnvelope(t), (e) => e))
    if (Either.isLeft(decoded)) {
      const why = decoded.left instanceof Error ? decoded.left.message : String(decoded.left)
      return yield* Effect.logWarning("skipping a Kafka message that is not an event envelope").pipe(
        Effect.annotateLogs({
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          why: why.slice(0, 500)
        })
      )
    }
    const event = decoded.right
    const created = yield* insertDeliveriesForEvent(event)
    yield* signalDeliveries(created)
  }).pipe(Effect.withSpan("webhooks.fanOut", { attributes: { "kafka.topic": message.topic } }))

/** Consumes every platform event topic for the lifetime of the layer. */
export const FanOutConsumerLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const config = yield* AppConfig
    const kafka = yield* Kafka
    yield* kafka.consume(
      {
        groupId: config.kafka.groupId,
        topics: config.kafka.eventTopics,
        fromBeginning: true,
        partitionsConsumedConcurrently: 8
      },
      handleEventMessage
    )
    yield* Effect.logInfo("consuming platform events").pipe(
      Effect.annotateLogs({ topics: String(config.kafka.eventTopics), groupId: config.kafka.groupId })
    )
  })
)
