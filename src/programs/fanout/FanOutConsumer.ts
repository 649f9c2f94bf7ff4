import { Effect, Either, Layer, Schedule, Scope } from "effect"
import { inspectMessage, type Rejection } from "../../domain/envelopeChecks.ts"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { DeliveryStore, type DeliveryStoreShape, type NewDelivery, type QuarantineEntry } from "../../services/DeliveryStore.ts"
import { type IncomingMessage, Kafka } from "../../services/Kafka.ts"
import type { PersistenceError } from "../../services/Persistence.ts"
import { DeliverySignals, type Intake } from "../delivery/DeliverySignals.ts"
import { countBatch } from "./metrics.ts"

interface Accepted {
  readonly message: IncomingMessage
  readonly event: EventEnvelope
}

interface Taken {
  readonly created: ReadonlyArray<NewDelivery>
  /** Created and not claimed yet: the lanes claim these at once when signalled. */
  readonly toSignal: ReadonlyArray<NewDelivery>
  readonly matched: number
  readonly unmatched: number
  readonly refused: ReadonlyArray<{ readonly accepted: Accepted; readonly detail: string }>
}

const entryOf = (message: IncomingMessage, rejection: Rejection): QuarantineEntry => ({
  topic: message.topic,
  partition: message.partition,
  offset: message.offset,
  reason: rejection.reason,
  detail: rejection.detail,
  sizeBytes: message.value?.byteLength ?? 0,
  storeId: rejection.storeId,
  eventId: rejection.eventId
})

/**
 * The batch's events in one statement. When the database refuses the batch's
 * data (not when it is unreachable), each event is tried alone and the ones it
 * refuses alone are quarantined: one poisoned event never holds up its partition.
 */
const takeIn = (
  store: DeliveryStoreShape,
  intake: Intake,
  accepted: ReadonlyArray<Accepted>
): Effect.Effect<Taken, PersistenceError> => {
  const tally = (
    created: ReadonlyArray<NewDelivery>,
    flags: ReadonlyArray<boolean>,
    refused: Taken["refused"],
    toSignal: ReadonlyArray<NewDelivery> = created
  ): Taken => ({
    created,
    toSignal,
    matched: flags.filter((f) => f).length,
    unmatched: flags.filter((f) => !f).length,
    refused
  })
  const events = accepted.map((a) => a.event)
  return intake((claim) => store.createForEvents(events, claim)).pipe(
    // Those claimed as they were inserted are with the lane's workers already: only the rest are signalled.
    Effect.map((result) => {
      const claimed = new Set(result.claimed.map((c) => c.delivery_id))
      return tally(result.created, result.matched, [], result.created.filter((d) => !claimed.has(d.deliveryId)))
    }),
    Effect.catchIf((error) => error.kind === "Rejected" && accepted.length > 1, () =>
      Effect.gen(function*() {
        const created: Array<NewDelivery> = []
        const flags: Array<boolean> = []
        const refused: Array<Taken["refused"][number]> = []
        for (const one of accepted) {
          const result = yield* Effect.either(store.createForEvents([one.event]))
          if (Either.isRight(result)) {
            created.push(...result.right.created)
            flags.push(...result.right.matched)
          } else if (result.left.kind === "Rejected") {
            refused.push({ accepted: one, detail: result.left.detail })
          } else {
            return yield* Effect.fail(result.left)
          }
        }
        return tally(created, flags, refused)
      })),
    Effect.catchIf((error) => error.kind === "Rejected" && accepted.length === 1, (error) =>
      Effect.succeed(tally([], [], [{ accepted: accepted[0]!, detail: error.detail }])))
  )
}

/**
 * Turns a batch of platform events (one partition's, in order) into their
 * deliveries and connector runs. Quarantine, never block: a message that is not
 * a storable event envelope is recorded in quarantined_events (where it came
 * from and why, never its content), counted and logged, and the rest of the
 * batch goes on. Only our own outage (the database unreachable) fails the
 * batch: its offsets stay uncommitted and it comes again (re-inserting is a no-op).
 */
export const makeFanOutHandler = Effect.gen(function*() {
  const config = yield* AppConfig
  const store = yield* DeliveryStore
  const signals = yield* DeliverySignals
  const limits = config.events

  const handle = (messages: ReadonlyArray<IncomingMessage>) =>
    Effect.gen(function*() {
      const accepted: Array<Accepted> = []
      const rejected: Array<QuarantineEntry> = []
      for (const message of messages) {
        const inspected = Either.try(() => inspectMessage(message.value, limits)).pipe(
          Either.mapLeft((): Rejection => ({ reason: "internal_error", detail: "the message could not be inspected", storeId: null, eventId: null })),
          Either.flatMap((result) => result)
        )
        if (Either.isRight(inspected)) accepted.push({ message, event: inspected.right })
        else rejected.push(entryOf(message, inspected.left))
      }
      const taken = accepted.length === 0
        ? { created: [], toSignal: [], matched: 0, unmatched: 0, refused: [] } satisfies Taken
        : yield* takeIn(store, signals.intake, accepted)
      for (const { accepted: one, detail } of taken.refused) {
        rejected.push(entryOf(one.message, {
          reason: "rejected_by_database",
          detail: `PostgreSQL refused the event (${detail})`,
          storeId: one.event.storeId,
          eventId: one.event.eventId
        }))
      }
      if (rejected.length > 0) {
        yield* store.quarantine(rejected)
        yield* Effect.forEach(rejected, (entry) =>
          Effect.logWarning("quarantined a Kafka message that is not a storable event envelope").pipe(
            Effect.annotateLogs({ topic: entry.topic, partition: entry.partition, offset: entry.offset, reason: entry.reason, why: entry.detail })
          ), { discard: true })
      }
      yield* countBatch({
        consumed: messages.length,
        matched: taken.matched,
        unmatched: taken.unmatched,
        quarantined: rejected.map((r) => r.reason),
        created: {
          webhook: taken.created.filter((d) => d.lane === "webhook").length,
          connector: taken.created.filter((d) => d.lane === "connector").length
        }
      })
      yield* signals.signal(taken.toSignal)
    })

  // A defect (a bug) must not stop the partition either: the batch is taken in message by
  // message, and a message that still hits it is quarantined as an internal error.
  const quarantineDefect = (message: IncomingMessage) =>
    store.quarantine([entryOf(message, { reason: "internal_error", detail: "taking the event in failed unexpectedly", storeId: null, eventId: null })]).pipe(
      Effect.zipRight(Effect.logError("quarantined a Kafka message that hit a defect").pipe(
        Effect.annotateLogs({ topic: message.topic, partition: message.partition, offset: message.offset })
      )),
      Effect.zipRight(countBatch({ consumed: 1, matched: 0, unmatched: 0, quarantined: ["internal_error"], created: { webhook: 0, connector: 0 } }))
    )

  return (messages: ReadonlyArray<IncomingMessage>) =>
    handle(messages).pipe(
      Effect.catchAllDefect(() =>
        Effect.forEach(messages, (message) => handle([message]).pipe(Effect.catchAllDefect(() => quarantineDefect(message))), {
          discard: true
        })
      ),
      Effect.withSpan("fanout.batch", {
        captureStackTrace: false,
        attributes: { "kafka.topic": messages[0]?.topic, "messaging.batch.message_count": messages.length }
      })
    )
})

/** Joining the group is tried again on this schedule while Kafka is unreachable. */
const joinRetry = Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("30 seconds")))

/**
 * Consumes every platform event topic for the lifetime of the layer. Start-up
 * does not wait for Kafka: the HTTP API (the gateway's /credentials/validate)
 * needs only the database, so the consumer joins in the background and keeps
 * trying while the brokers are unreachable.
 */
export const FanOutConsumerLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const config = yield* AppConfig
    const kafka = yield* Kafka
    const handle = yield* makeFanOutHandler
    const scope = yield* Effect.scope
    const annotations = { topics: String(config.kafka.eventTopics), groupId: config.kafka.groupId }
    yield* kafka.consumeBatches(
      {
        groupId: config.kafka.groupId,
        topics: config.kafka.eventTopics,
        fromBeginning: true,
        partitionsConsumedConcurrently: 8,
        maxBatchSize: 500
      },
      handle
    ).pipe(
      Scope.extend(scope),
      Effect.zipRight(Effect.logInfo("consuming platform events")),
      Effect.tapError((error) => Effect.logWarning("cannot consume platform events yet; trying again", error)),
      Effect.retry(joinRetry),
      Effect.annotateLogs(annotations),
      Effect.forkScoped
    )
  })
)
