import { Deferred, Effect, Exit, FiberSet, Queue, Runtime, Schedule } from "effect"
import type { EachBatchPayload, EachMessagePayload, Kafka as KafkaJs } from "kafkajs"
import { type ConsumeOptions, type IncomingMessage, KafkaError } from "../../services/Kafka.ts"
import { errorText, InFlight, type Mode, toIncoming } from "./support.ts"

export interface MemberSettings {
  readonly tuning: {
    readonly sessionTimeout?: number
    readonly heartbeatInterval?: number
    readonly rebalanceTimeout?: number
    readonly maxWaitTimeInMs?: number
  }
  /** Delays between attempts of a failing handler on the same message. */
  readonly handlerRetry: Schedule.Schedule<unknown, unknown>
}

/** The least time between two offset commits of one member. */
const commitSpacing = "100 millis"

/** One kafkajs consumer for a fixed topic set; the scope's close stops it gracefully. */
export const startMember = <E, R>(
  kafka: KafkaJs,
  settings: MemberSettings,
  options: ConsumeOptions,
  topics: ReadonlyArray<string>,
  mode: Mode<E, R>,
  runtime: Runtime.Runtime<R>
) =>
  Effect.gen(function*() {
    const consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // A member that died (kill -9) holds its partitions until its session times out:
      // 10 s (kafkajs: 30 s), so a new instance takes its events over within seconds.
      sessionTimeout: settings.tuning.sessionTimeout ?? 10_000,
      heartbeatInterval: settings.tuning.heartbeatInterval ?? 1_000,
      ...(settings.tuning.rebalanceTimeout !== undefined ? { rebalanceTimeout: settings.tuning.rebalanceTimeout } : {}),
      maxWaitTimeInMs: settings.tuning.maxWaitTimeInMs ?? 1000
    })
    const inFlight = new InFlight()
    const joined = yield* Deferred.make<void>()
    const crashed = yield* Deferred.make<never, KafkaError>()
    consumer.on(consumer.events.GROUP_JOIN, () => Deferred.unsafeDone(joined, Exit.void))
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // With restart=true kafkajs reconnects by itself; otherwise this member is dead.
      if (!payload.restart) {
        Deferred.unsafeDone(crashed, Exit.fail(new KafkaError({ operation: "consume", reason: errorText(payload.error) })))
      }
    })

    // Batches' offsets, once their messages are stored, are committed off the fetch loop's
    // path by one committer: one request at a time, for every partition handled since the
    // last (so batches finishing while a commit is on its way share the next request).
    // Whatever a crash leaves uncommitted is consumed again, which the fan-out makes a no-op.
    const pendingCommits = new Map<string, { readonly topic: string; readonly partition: number; readonly offset: string }>()
    const commitWanted = yield* Queue.sliding<void>(1)
    // After a rebalance the partitions may be another member's, which consumes from the last
    // commit: an older offset of ours must not be committed over its newer one.
    consumer.on(consumer.events.GROUP_JOIN, () => pendingCommits.clear())
    const commitPending = Effect.suspend(() => {
      if (pendingCommits.size === 0) return Effect.void
      const offsets = [...pendingCommits.values()]
      pendingCommits.clear()
      return Effect.tryPromise(() => consumer.commitOffsets(offsets)).pipe(
        // A rebalance took the partitions meanwhile: their new owner consumes from the last commit.
        Effect.catchAll((e) =>
          Effect.logWarning("kafka offsets could not be committed; those events may be consumed again").pipe(
            Effect.annotateLogs({ why: errorText(e.error) })
          )
        )
      )
    })

    // Runner.commitOffsets silently skips once kafkajs is stopping, so in-flight handlers
    // must finish (and commit) before consumer.stop is called.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        inFlight.stopping = true
        yield* Effect.promise(() => inFlight.drained())
        yield* commitPending
        yield* Effect.tryPromise(() => consumer.disconnect()).pipe(
          Effect.catchAll((e) => Effect.logWarning("kafka consumer did not disconnect cleanly", e))
        )
      })
    )
    // Made after the finalizer above, so pending resumes are cancelled before the consumer stops.
    const runTimer = yield* FiberSet.makeRuntime<never>()
    const retries = new Map<string, { readonly offset: string; readonly driver: Schedule.ScheduleDriver<unknown, unknown> }>()

    // The fetcher waits until every batch of a fetch is handled before fetching again, so
    // retrying inside eachMessage would stall all partitions. A failed message is instead
    // seeked back to and its partition paused until the backoff delay has passed.
    const handleMessages = (
      at: { readonly topic: string; readonly partition: number; readonly offset: string },
      pause: () => void,
      handle: Effect.Effect<void, E, R>
    ) => {
      const { offset, partition, topic } = at
      const key = `${partition}:${topic}`
      const retryLater = Effect.gen(function*() {
        const previous = retries.get(key)
        const state = previous?.offset === offset
          ? previous
          : { offset, driver: yield* Schedule.driver(settings.handlerRetry) }
        retries.set(key, state)
        consumer.seek({ topic, partition, offset })
        pause()
        if (inFlight.stopping) return
        runTimer(state.driver.next(undefined).pipe(
          Effect.ignore,
          // Throws while kafkajs restarts after a crash; the restarted member is not paused anyway.
          Effect.zipRight(Effect.try(() => {
            if (!inFlight.stopping) consumer.resume([{ topic, partitions: [partition] }])
          })),
          Effect.ignore
        ))
      })
      return handle.pipe(
        Effect.matchCauseEffect({
          onFailure: (cause) =>
            Effect.logWarning("kafka message handler failed; retrying the same message", cause).pipe(
              Effect.zipRight(retryLater),
              Effect.as(false)
            ),
          onSuccess: () => Effect.sync(() => retries.delete(key)).pipe(Effect.as(true))
        }),
        Effect.annotateLogs({ topic, partition, offset })
      )
    }

    const eachMessage = (handler: (message: IncomingMessage) => Effect.Effect<void, E, R>) =>
    async (payload: EachMessagePayload) => {
      // Once stopping, leave the rest of the batch unhandled (and uncommitted).
      if (inFlight.stopping) {
        payload.pause()
        return
      }
      inFlight.enter()
      try {
        const succeeded = await Runtime.runPromise(runtime)(
          handleMessages(
            { topic: payload.topic, partition: payload.partition, offset: payload.message.offset },
            payload.pause,
            handler(toIncoming(payload))
          )
        )
        // A commit error propagates to kafkajs, which rejoins the group on a rebalance.
        if (succeeded) {
          const next = (BigInt(payload.message.offset) + 1n).toString()
          await consumer.commitOffsets([{ topic: payload.topic, partition: payload.partition, offset: next }])
        }
      } finally {
        inFlight.leave()
      }
      if (inFlight.stopping) payload.pause()
    }

    const eachBatch = (
      handler: (messages: ReadonlyArray<IncomingMessage>) => Effect.Effect<void, E, R>,
      maxBatchSize: number
    ) =>
    async (payload: EachBatchPayload) => {
      const { batch } = payload
      inFlight.enter()
      try {
        for (let start = 0; start < batch.messages.length; start += maxBatchSize) {
          // Once stopping (or after a rebalance took the partition), leave the rest uncommitted.
          if (inFlight.stopping || !payload.isRunning() || payload.isStale()) {
            if (inFlight.stopping) payload.pause()
            return
          }
          const chunk = batch.messages.slice(start, start + maxBatchSize)
          const first = chunk[0]!
          const last = chunk[chunk.length - 1]!
          const succeeded = await Runtime.runPromise(runtime)(
            handleMessages(
              { topic: batch.topic, partition: batch.partition, offset: first.offset },
              payload.pause,
              handler(chunk.map((message) => toIncoming({ message, topic: batch.topic, partition: batch.partition })))
            )
          )
          if (!succeeded) return
          const next = (BigInt(last.offset) + 1n).toString()
          pendingCommits.set(`${batch.partition}:${batch.topic}`, { topic: batch.topic, partition: batch.partition, offset: next })
          Queue.unsafeOffer(commitWanted, undefined)
          payload.resolveOffset(last.offset)
          await payload.heartbeat()
        }
      } finally {
        inFlight.leave()
      }
    }

    yield* Effect.tryPromise({
      try: async () => {
        await consumer.connect()
        await consumer.subscribe({ topics: [...topics], fromBeginning: options.fromBeginning ?? true })
        await consumer.run({
          autoCommit: false,
          partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
          ...(mode._tag === "Messages"
            ? { eachMessage: eachMessage(mode.handler) }
            : { eachBatchAutoResolve: false, eachBatch: eachBatch(mode.handler, mode.maxBatchSize) })
        })
      },
      catch: (e) => new KafkaError({ operation: "consume", reason: errorText(e) })
    })
    // A commit under way finishes before the scope's close commits what is left.
    // At most one commit per commitSpacing: a busy partition's batches share one request
    // instead of one each, and a crash consumes that much again at most (a no-op).
    yield* Effect.forkScoped(Effect.forever(
      commitWanted.take.pipe(Effect.zipRight(Effect.uninterruptible(commitPending)), Effect.zipRight(Effect.sleep(commitSpacing)))
    ))
    // run() also resolves when the first join crashed; GROUP_JOIN is the real signal.
    yield* Effect.raceFirst(Deferred.await(joined), Deferred.await(crashed))
    return { crashed }
  })
