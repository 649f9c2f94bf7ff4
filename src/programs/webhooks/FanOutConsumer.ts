import { Array as Arr, Effect, Either, Layer, Option, Schema } from "effect"
import { type EventEnvelope, EventEnvelopeFromJson } from "../../domain/EventEnvelope.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { type IncomingMessage, Kafka } from "../../services/Kafka.ts"
import { insertDeliveriesForEvents } from "./DeliveriesRepo.ts"
import { signalDeliveries } from "./DeliverySignals.ts"

const decodeEnvelope = Schema.decodeUnknownEither(EventEnvelopeFromJson)
const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * The envelope of a message, or None after logging why it is not one (topic,
 * partition, offset and the reason — never the value). Such a message is
 * skipped: it is committed past with its batch, so it never blocks its partition.
 */
const envelopeOf = (message: IncomingMessage) => {
  const decoded = Either.try(() => (message.value === null ? "" : utf8.decode(message.value))).pipe(
    Either.flatMap((text) => decodeEnvelope(text))
  )
  if (Either.isRight(decoded)) return Effect.succeed(Option.some(decoded.right))
  const why = decoded.left instanceof Error ? decoded.left.message : String(decoded.left)
  return Effect.logWarning("skipping a Kafka message that is not an event envelope").pipe(
    Effect.annotateLogs({ topic: message.topic, partition: message.partition, offset: message.offset, why: why.slice(0, 500) }),
    Effect.as(Option.none<EventEnvelope>())
  )
}

/**
 * Turns a batch of platform events (one partition's, in order) into their
 * deliveries, in one statement. A database failure fails the batch, so its
 * offsets stay uncommitted and it comes again (re-inserting is a no-op).
 */
export const handleEventMessages = (messages: ReadonlyArray<IncomingMessage>) =>
  Effect.gen(function*() {
    const events = Arr.getSomes(yield* Effect.forEach(messages, envelopeOf))
    const created = yield* insertDeliveriesForEvents(events)
    yield* signalDeliveries(created)
  }).pipe(
    Effect.withSpan("webhooks.fanOut", {
      captureStackTrace: false,
      attributes: { "kafka.topic": messages[0]?.topic, "messaging.batch.message_count": messages.length }
    })
  )

/** One message (tests, and the dev bus). */
export const handleEventMessage = (message: IncomingMessage) => handleEventMessages([message])

/** Consumes every platform event topic for the lifetime of the layer. */
export const FanOutConsumerLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const config = yield* AppConfig
    const kafka = yield* Kafka
    yield* kafka.consumeBatches(
      {
        groupId: config.kafka.groupId,
        topics: config.kafka.eventTopics,
        fromBeginning: true,
        partitionsConsumedConcurrently: 8,
        maxBatchSize: 500
      },
      handleEventMessages
    )
    yield* Effect.logInfo("consuming platform events").pipe(
      Effect.annotateLogs({ topics: String(config.kafka.eventTopics), groupId: config.kafka.groupId })
    )
  })
)
