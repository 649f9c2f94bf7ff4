import { Array as Arr, Chunk, Duration, Effect, Layer, Queue, Record, Schedule } from "effect"
import { AppConfig } from "../../services/AppConfig.ts"
import { Kafka } from "../../services/Kafka.ts"
import { attemptDelivery } from "./attempt.ts"
import {
  type AttemptResult,
  claimDeliveries,
  type ClaimedDelivery,
  recordAttempts,
  relayOutbox,
  releaseExpiredLeases
} from "./DeliveriesRepo.ts"
import { DeliverySignals } from "./DeliverySignals.ts"

export interface DeliveryWorkerOptions {
  /** Attempts in flight at once in this instance. */
  readonly concurrency: number
  /** How often due retries are looked for (SPEC: a due retry goes out within ~2 s). */
  readonly pollInterval: Duration.DurationInput
  /** A claim lasts this long; a worker that died is noticed after it. */
  readonly leaseSeconds: number
  /** The same for connector runs (which may take up to two minutes). */
  readonly connectorLeaseSeconds: number
  /** How often expired claims are released. */
  readonly sweepInterval: Duration.DurationInput
  /** How often the outbox is relayed to Kafka when nothing signals it. */
  readonly outboxInterval: Duration.DurationInput
}

export const defaultDeliveryWorkerOptions = (webhookTimeoutMs: number): DeliveryWorkerOptions => ({
  concurrency: 128,
  pollInterval: "1 second",
  // Well past the longest attempt (the timeout) plus the time to record it.
  leaseSeconds: Math.ceil(webhookTimeoutMs / 1000) * 3 + 30,
  connectorLeaseSeconds: 300,
  sweepInterval: "10 seconds",
  outboxInterval: "1 second"
})

const claimBatch = 256

/** Failures of the loops themselves (the database is down, …) are logged and the loop goes on. */
const forever = <E, R>(name: string, step: Effect.Effect<unknown, E, R>, pause: Duration.DurationInput) =>
  step.pipe(
    Effect.catchAllCause((cause) =>
      Effect.logWarning(`webhook ${name} failed; retrying`, cause).pipe(Effect.zipRight(Effect.sleep(pause)))
    ),
    Effect.forever
  )

/**
 * The delivery engine of one instance, for the lifetime of the layer:
 * - a dispatcher claims signalled deliveries at once (first attempts go out immediately);
 * - a poller claims due retries (and anything a signal missed) every `pollInterval`;
 * - `concurrency` workers attempt what was claimed;
 * - a writer records results in batches, with the Kafka messages into the outbox;
 * - a relay publishes the outbox; a sweeper releases claims whose worker died.
 * On shutdown, claiming stops first, attempts in flight finish and are recorded,
 * and the outbox is flushed.
 */
export const makeDeliveryWorkers = (options: DeliveryWorkerOptions) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const kafka = yield* Kafka
    const signals = yield* DeliverySignals
    const attemptOptions = { httpsOnly: config.mode === "live" && !config.webhook.allowInsecureTargets }

    // Claims are only made for room in this queue, so a claimed delivery waits
    // briefly for a worker: never long enough for its lease to run out.
    const workCapacity = options.concurrency * 2
    const work = yield* Queue.bounded<ClaimedDelivery>(workCapacity)
    const room = Effect.map(work.size, (size) => Math.min(claimBatch, workCapacity - size))
    const results = yield* Queue.unbounded<AttemptResult>()
    const outboxWake = yield* Queue.sliding<void>(1)

    // One round (publish, then delete in the same transaction) is never cut in half by
    // shutdown: interrupted after the publish, the rows would stay and go out twice.
    const publishOutbox = Effect.uninterruptible(relayOutbox(500, (messages) =>
      Effect.forEach(
        Record.toEntries(Arr.groupBy(messages, (m) => m.topic)),
        ([topic, batch]) => kafka.publish(topic, batch.map((m) => ({ key: m.key, value: m.value }))),
        { discard: true }
      )))
    const drainOutbox = publishOutbox.pipe(Effect.repeat({ while: (n) => n > 0 }))

    const record = (batch: ReadonlyArray<AttemptResult>) =>
      recordAttempts(batch).pipe(
        Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(8)))),
        Effect.zipRight(outboxWake.offer(undefined))
      )

    // --- started in this order so that shutdown (reverse order) drains cleanly
    // The final drain runs once the relay has stopped (after its round in progress):
    // run alongside it, the drain would skip the rows that round holds locked.
    yield* Effect.addFinalizer(() => Effect.ignore(drainOutbox))
    yield* Effect.forkScoped(
      forever("outbox relay", outboxWake.take.pipe(Effect.timeout(options.outboxInterval), Effect.ignore, Effect.zipRight(drainOutbox)), "1 second")
    )

    // A batch taken off the queue is recorded even when shutdown interrupts the writer
    // (interrupted mid-transaction, it would be lost: the attempts made, but not on record).
    const writeBatch = Effect.uninterruptibleMask((restore) =>
      restore(results.takeBetween(1, 500)).pipe(Effect.flatMap((batch) => record(Chunk.toReadonlyArray(batch))))
    )
    yield* Effect.forkScoped(forever("writer", writeBatch, "1 second"))
    yield* Effect.addFinalizer(() =>
      results.takeAll.pipe(Effect.flatMap((batch) => record(Chunk.toReadonlyArray(batch))), Effect.ignore)
    )

    // An attempt in hand is finished and its result queued even when shutdown interrupts the worker.
    const worker = Effect.uninterruptibleMask((restore) =>
      restore(work.take).pipe(
        Effect.flatMap((delivery) => Effect.flatMap(attemptDelivery(delivery, attemptOptions), (r) => results.offer(r)))
      )
    ).pipe(Effect.forever)
    yield* Effect.forkScoped(Effect.all(Array.from({ length: options.concurrency }, () => worker), { concurrency: "unbounded", discard: true }))

    const enqueue = (claimed: ReadonlyArray<ClaimedDelivery>) => work.offerAll(claimed)

    yield* Effect.forkScoped(forever("sweeper", releaseExpiredLeases.pipe(
      Effect.tap((released) => released > 0 ? Effect.logWarning("released expired delivery claims").pipe(Effect.annotateLogs({ released })) : Effect.void),
      Effect.zipRight(Effect.sleep(options.sweepInterval))
    ), "1 second"))

    // Polls again at once while it fills its batch (a backlog), else after pollInterval.
    const poll = Effect.gen(function*() {
      const limit = yield* room
      if (limit <= 0) return yield* Effect.sleep("20 millis")
      const claimed = yield* claimDeliveries({ limit, leaseSeconds: options.leaseSeconds, connectorLeaseSeconds: options.connectorLeaseSeconds })
      yield* enqueue(claimed)
      if (claimed.length < limit) yield* Effect.sleep(options.pollInterval)
    })
    yield* Effect.forkScoped(forever("poller", poll, "1 second"))

    // Signalled deliveries beyond the room left are claimed by the poller moments later.
    const dispatch = Effect.gen(function*() {
      const ids = yield* signals.takeBetween(1, claimBatch)
      const limit = yield* room
      if (limit <= 0) return
      yield* enqueue(yield* claimDeliveries({
        ids: Chunk.toReadonlyArray(ids),
        limit,
        leaseSeconds: options.leaseSeconds,
        connectorLeaseSeconds: options.connectorLeaseSeconds
      }))
    })
    yield* Effect.forkScoped(forever("dispatcher", dispatch, "200 millis"))
  })

export const DeliveryWorkersLive = Layer.scopedDiscard(
  Effect.flatMap(AppConfig, (config) => makeDeliveryWorkers(defaultDeliveryWorkerOptions(config.webhook.timeoutMs)))
)

/** With other timings (tests: short leases and polls). */
export const deliveryWorkersWith = (options: DeliveryWorkerOptions) => Layer.scopedDiscard(makeDeliveryWorkers(options))
