import { Options } from "@effect/cli"
import { HttpClientError } from "@effect/platform"
import { Config, Console, DateTime, Effect, Logger, LogLevel, Option, Schema } from "effect"
import { EventEnvelope, EventType } from "../../domain/EventEnvelope.ts"
import { makeAdminClient } from "../client.ts"
import { ApiProblem, CliError } from "../failures.ts"
import {
  clientCommand, type ClientOptions, commandGroup, decodeInput, decodeOptional, decodeStore, given,
  optionalText, storeOption
} from "../options.ts"
import { printJson } from "../format.ts"

/** Kafka's topic name rule (the same one `POST /dev/events` applies). */
const TopicName = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]{1,249}$/))

/** `--data`: a JSON object, nothing else (the envelope's `data` is an object). */
export const parseEventData = (text: string): Effect.Effect<Record<string, unknown>, CliError> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: () => new CliError({ message: `--data is not valid JSON: expected an object, e.g. '{"orderId":"o-1"}'` })
  }).pipe(
    Effect.filterOrFail(
      (value): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value),
      (value) =>
        new CliError({
          message: `--data must be a JSON object, e.g. '{"orderId":"o-1"}' (got ${
            value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`
          })`
        })
    )
  )

/** `a:9092, b:9092` → `["a:9092", "b:9092"]`; an empty setting means "not given". */
export const parseBrokers = (value: Option.Option<string>): ReadonlyArray<string> =>
  Option.match(value, {
    onNone: () => [],
    onSome: (text) => text.split(",").map((b) => b.trim()).filter((b) => b.length > 0)
  })

export interface PublishEventInput extends ClientOptions {
  readonly type: string
  readonly store: string
  readonly data: Option.Option<string>
  readonly eventId: Option.Option<string>
  readonly topic: Option.Option<string>
  readonly brokers: Option.Option<string>
}

interface Published {
  readonly topic: string
  readonly eventId: string
  readonly via: "kafka" | "dev-server"
}

const publishToKafka = (brokers: ReadonlyArray<string>, topic: string, envelope: EventEnvelope) =>
  Effect.scoped(
    Effect.gen(function*() {
      // kafkajs is loaded only when an event goes straight onto Kafka.
      const { makeKafkaLive } = yield* Effect.promise(() => import("../../layers/KafkaLive.ts"))
      const kafka = yield* makeKafkaLive({ brokers, clientId: "integration-service-cli", publishTimeout: "20 seconds" })
      const value = JSON.stringify(Schema.encodeSync(EventEnvelope)(envelope))
      yield* kafka.publish(topic, [{ key: envelope.storeId, value }])
    })
  ).pipe(
    // kafkajs reports every reconnect attempt; the one-line failure at the end says what went wrong.
    Logger.withMinimumLogLevel(LogLevel.None)
  )

const devOnlyHint = (
  error: HttpClientError.HttpClientError
): Effect.Effect<never, CliError | HttpClientError.HttpClientError> =>
  error._tag === "ResponseError" && error.cause instanceof ApiProblem && error.cause.status === 404
    ? Effect.fail(
      new CliError({
        message: "POST /dev/events is served only in dev mode (npm start); to publish onto Kafka pass --brokers or set KAFKA_BROKERS"
      })
    )
    : Effect.fail(error)

export const publishEvent = (input: PublishEventInput) =>
  Effect.gen(function*() {
    const eventType = yield* decodeInput("--type", EventType, input.type, "a dot-separated event type, e.g. order.placed")
    const storeId = yield* decodeStore(input.store)
    const data = yield* Option.match(input.data, { onNone: () => Effect.succeed({}), onSome: parseEventData })
    const eventId = yield* decodeOptional("--event-id", Schema.UUID, input.eventId, "a UUID")
    const topic = yield* decodeOptional("--topic", TopicName, input.topic, "a Kafka topic name (letters, digits, . _ -)")
    const brokers = parseBrokers(input.brokers)

    let published: Published
    if (brokers.length > 0) {
      const envelope = new EventEnvelope({
        eventId: Option.getOrElse(eventId, () => crypto.randomUUID()),
        eventType,
        storeId,
        occurredAt: DateTime.formatIso(yield* DateTime.now),
        data
      })
      const target = Option.getOrElse(topic, () => eventType)
      yield* publishToKafka(brokers, target, envelope)
      published = { topic: target, eventId: envelope.eventId, via: "kafka" }
    } else {
      const client = yield* makeAdminClient(input)
      const answer = yield* client.dev.publishEvent({
        payload: {
          eventType,
          storeId,
          data,
          ...given({ eventId, topic })
        }
      }).pipe(Effect.catchIf(HttpClientError.isHttpClientError, devOnlyHint))
      published = { topic: answer.topic, eventId: answer.eventId, via: "dev-server" }
    }
    if (input.json) return yield* printJson(published)
    yield* Console.log(
      `published ${eventType} to topic ${published.topic} (event id ${published.eventId}) ` +
        (published.via === "kafka" ? `via Kafka ${brokers.join(",")}` : "via the dev server's POST /dev/events")
    )
  })

const publishCommand = clientCommand(
  "publish",
  {
    type: Options.text("type").pipe(Options.withDescription("The event type, e.g. order.placed.")),
    store: storeOption,
    data: optionalText("data", `The event's data: a JSON object, e.g. '{"orderId":"o-1"}'. Default {}.`),
    eventId: optionalText("event-id", "The event id (a UUID). Default: a new one. Re-use one to test duplicate suppression."),
    topic: optionalText("topic", "The Kafka topic. Default: the event type."),
    brokers: Options.text("brokers").pipe(
      Options.withFallbackConfig(Config.string("KAFKA_BROKERS")),
      Options.optional,
      Options.withDescription(
        "Kafka bootstrap servers, comma-separated. Default: $KAFKA_BROKERS. When set, the event goes straight onto Kafka; " +
          "otherwise through the dev server's POST /dev/events at --url (dev mode's in-process bus)."
      )
    )
  },
  publishEvent,
  {
    description: "Publish a test domain event {eventId, eventType, storeId, occurredAt, data} (key: the store id) and " +
      "print its topic and event id.",
    examples: [
      `events publish --type order.placed --store store-1 --data '{"orderId":"o-1"}'`,
      "events publish --type product.updated --store store-1 --brokers localhost:9092"
    ]
  }
)

export const eventsCommand = commandGroup("events", "Domain events: publish a test event.", [publishCommand])
