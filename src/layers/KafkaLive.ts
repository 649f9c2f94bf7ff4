import { Deferred, Duration, Effect, Exit, FiberSet, Layer, Runtime, Schedule, type Scope } from "effect"
import {
  Kafka as KafkaJs,
  logLevel,
  Partitioners,
  type EachBatchPayload,
  type EachMessagePayload,
  type KafkaMessage,
  type IHeaders,
  type LogEntry,
  type Message
} from "kafkajs"
import { AppConfig } from "../services/AppConfig.ts"
import {
  type ConsumeOptions,
  type IncomingMessage,
  Kafka,
  KafkaError,
  type KafkaShape,
  type OutgoingMessage
} from "../services/Kafka.ts"

export interface KafkaLiveOptions {
  readonly brokers: ReadonlyArray<string>
  readonly clientId: string
  /** kafkajs never picks up topics created after a subscription, so matching topics are re-listed this often. Default 30 s. */
  readonly topicRefreshInterval?: Duration.DurationInput
  /** Delays between attempts of a failing handler on the same message. Default 200 ms doubling, capped at 30 s. */
  readonly handlerRetry?: Schedule.Schedule<unknown, unknown>
  /** The idempotent producer retries forever on its own; a publish gives up (KafkaError) after this. Default 30 s. */
  readonly publishTimeout?: Duration.DurationInput
  readonly consumer?: {
    /** Default 10 s (kafkajs: 30 s); heartbeats every 1 s. */
    readonly sessionTimeout?: number
    readonly heartbeatInterval?: number
    readonly rebalanceTimeout?: number
    /** Long-poll time of a fetch; a stop waits for the fetch in progress. Default 1000 (kafkajs: 5000). */
    readonly maxWaitTimeInMs?: number
  }
}

export const defaultHandlerRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("200 millis").pipe(
  Schedule.union(Schedule.spaced("30 seconds"))
)

const restartBackoff = Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("30 seconds")))

const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

/** Broker answers to a produce request that no retry can change (the messages themselves are refused). */
const permanentErrorTypes = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "CORRUPT_MESSAGE",
  "INVALID_TOPIC_EXCEPTION"
])

/** kafkajs wraps the broker's error (KafkaJSProtocolError, with its `type`) in retry and non-retriable errors. */
const isPermanentPublishError = (e: unknown): boolean => {
  let current: unknown = e
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { type, cause, originalError } = current as { type?: unknown; cause?: unknown; originalError?: unknown }
    if (typeof type === "string" && permanentErrorTypes.has(type)) return true
    current = cause ?? originalError
  }
  return false
}

/** Connects on first use; a failed connect is attempted again next time. */
const lazily = (connect: () => Promise<void>) => {
  let pending: Promise<void> | undefined
  return {
    get: () =>
      (pending ??= connect().catch((e: unknown) => {
        pending = undefined
        throw e
      })),
    started: () => pending !== undefined
  }
}

const kafkaJsLogger = (runtime: Runtime.Runtime<never>) => () => (entry: LogEntry) => {
  const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...extra } = entry.log
  const log =
    entry.level === logLevel.ERROR ? Effect.logError : entry.level === logLevel.WARN ? Effect.logWarning : Effect.logDebug
  Runtime.runFork(runtime)(log(String(message)).pipe(Effect.annotateLogs({ kafkajs: entry.namespace, ...extra })))
}

const toKafkaMessage = (m: OutgoingMessage): Message => ({
  key: m.key,
  value: m.value,
  ...(m.headers ? { headers: { ...m.headers } } : {})
})

const decodeHeaders = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    // Kafka allows repeated header names; like Java's lastHeader, the last one wins.
    const last = Array.isArray(value) ? value[value.length - 1] : value
    if (last !== undefined) out[name] = typeof last === "string" ? last : last.toString("utf8")
  }
  return out
}

const toIncoming = ({ message, partition, topic }: {
  readonly message: KafkaMessage
  readonly partition: number
  readonly topic: string
}): IncomingMessage => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key == null ? null : message.key.toString("utf8"),
  value: message.value,
  headers: decodeHeaders(message.headers),
  timestamp: message.timestamp
})

const sameTopics = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((t, i) => t === b[i])

/** How the member hands messages over: one by one, or a partition's batch at a time. */
type Mode<E, R> =
  | { readonly _tag: "Messages"; readonly handler: (message: IncomingMessage) => Effect.Effect<void, E, R> }
  | {
    readonly _tag: "Batches"
    readonly handler: (messages: ReadonlyArray<IncomingMessage>) => Effect.Effect<void, E, R>
    readonly maxBatchSize: number
  }

/** Tracks eachMessage calls in progress so a stop can wait for them before kafkajs stops committing. */
class InFlight {
  stopping = false
  private active = 0
  private waiters: Array<() => void> = []
  enter() {
    this.active++
  }
  leave() {
    if (--this.active === 0) for (const wake of this.waiters.splice(0)) wake()
  }
  drained(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve))
  }
}

export const makeKafkaLive = (options: KafkaLiveOptions): Effect.Effect<KafkaShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const refreshInterval = Duration.decode(options.topicRefreshInterval ?? "30 seconds")
    const handlerRetry = options.handlerRetry ?? defaultHandlerRetry
    const publishTimeout = Duration.decode(options.publishTimeout ?? "30 seconds")
    const tuning = options.consumer ?? {}

    const kafka = new KafkaJs({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: kafkaJsLogger(yield* Effect.runtime<never>())
    })

    // Java-compatible murmur2 partitioning: same key → same partition as the platform's JVM producers.
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner
    })
    const producerConnection = lazily(() => producer.connect())
    const admin = kafka.admin()
    const adminConnection = lazily(() => admin.connect())

    // Not waiting for a pending connect: against an unreachable cluster it retries for a long time.
    yield* Effect.addFinalizer(() =>
      Effect.promise(() =>
        Promise.all([
          producerConnection.started() ? producer.disconnect().catch(() => {}) : undefined,
          adminConnection.started() ? admin.disconnect().catch(() => {}) : undefined
        ])
      )
    )

    const withAdmin = <A>(use: (a: typeof admin) => Promise<A>) =>
      Effect.tryPromise({
        try: () => adminConnection.get().then(() => use(admin)),
        catch: (e) => new KafkaError({ operation: "admin", reason: errorText(e) })
      })

    const publish: KafkaShape["publish"] = (topic, messages) =>
      messages.length === 0
        ? Effect.void
        : Effect.tryPromise({
          try: () => producerConnection.get(),
          catch: (e) => new KafkaError({ operation: "connect", reason: errorText(e) })
        }).pipe(
          Effect.zipRight(Effect.tryPromise({
            try: () => producer.send({ topic, acks: -1, messages: messages.map(toKafkaMessage) }),
            catch: (e) => new KafkaError({ operation: "publish", reason: errorText(e), permanent: isPermanentPublishError(e) })
          })),
          Effect.timeoutFail({
            duration: publishTimeout,
            onTimeout: () =>
              new KafkaError({ operation: "publish", reason: `not acknowledged within ${Duration.format(publishTimeout)}` })
          }),
          Effect.asVoid
        )

    const ping: KafkaShape["ping"] = withAdmin((a) => a.describeCluster()).pipe(
      Effect.timeoutFail({
        duration: "5 seconds",
        onTimeout: () => new KafkaError({ operation: "admin", reason: "cluster did not answer within 5 seconds" })
      }),
      Effect.asVoid
    )

    const matchingTopics = (pattern: RegExp) => {
      // A `g`/`y` flag would make `test` stateful across topics.
      const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))
      return withAdmin((a) => a.listTopics()).pipe(Effect.map((topics) => topics.filter((t) => re.test(t)).sort()))
    }

    /** One kafkajs consumer for a fixed topic set; the scope's close stops it gracefully. */
    const startMember = <E, R>(
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
          sessionTimeout: tuning.sessionTimeout ?? 10_000,
          heartbeatInterval: tuning.heartbeatInterval ?? 1_000,
          ...(tuning.rebalanceTimeout !== undefined ? { rebalanceTimeout: tuning.rebalanceTimeout } : {}),
          maxWaitTimeInMs: tuning.maxWaitTimeInMs ?? 1000
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

        // Runner.commitOffsets silently skips once kafkajs is stopping, so in-flight handlers
        // must finish (and commit) before consumer.stop is called.
        yield* Effect.addFinalizer(() =>
          Effect.gen(function*() {
            inFlight.stopping = true
            yield* Effect.promise(() => inFlight.drained())
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
              : { offset, driver: yield* Schedule.driver(handlerRetry) }
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
              await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }])
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
        // run() also resolves when the first join crashed; GROUP_JOIN is the real signal.
        yield* Effect.raceFirst(Deferred.await(joined), Deferred.await(crashed))
        return { crashed }
      })

    const run = <E, R>(options: ConsumeOptions, mode: Mode<E, R>) =>
      Effect.gen(function*() {
        const runtime = yield* Effect.runtime<R>()
        const ready = yield* Deferred.make<void, KafkaError>()
        let started = false
        const markReady = Effect.suspend(() => {
          started = true
          return Deferred.succeed(ready, undefined)
        })

        const nextTopics = (current: ReadonlyArray<string>) =>
          matchingTopics(options.topics).pipe(
            Effect.catchAll((e) => Effect.logWarning("kafka topic refresh failed", e).pipe(Effect.as(current))),
            Effect.delay(refreshInterval),
            Effect.repeat({ until: (next) => !sameTopics(next, current) }),
            Effect.tap((next) =>
              Effect.logInfo("kafka subscription changed; restarting the consumer").pipe(
                Effect.annotateLogs({ topics: next.join(",") })
              )
            )
          )

        // Each generation serves one topic set until it changes; nothing matching means no member.
        const generation = (topics: ReadonlyArray<string>) =>
          topics.length === 0
            ? markReady.pipe(Effect.zipRight(nextTopics(topics)))
            : Effect.scoped(
              Effect.gen(function*() {
                const member = yield* startMember(options, topics, mode, runtime)
                yield* markReady
                return yield* Effect.raceFirst(nextTopics(topics), Deferred.await(member.crashed))
              })
            )

        const supervise = (topics: ReadonlyArray<string>): Effect.Effect<never, KafkaError> =>
          generation(topics).pipe(
            Effect.tapError((e) =>
              started ? Effect.logWarning("kafka consumer failed; restarting it", e) : Deferred.fail(ready, e)
            ),
            Effect.retry({ schedule: restartBackoff, while: () => started }),
            Effect.flatMap(supervise)
          )

        const initial = yield* matchingTopics(options.topics)
        yield* Effect.forkScoped(supervise(initial))
        yield* Deferred.await(ready)
      }).pipe(Effect.annotateLogs({ groupId: options.groupId }))

    const consume: KafkaShape["consume"] = (options, handler) => run(options, { _tag: "Messages", handler })
    const consumeBatches: KafkaShape["consumeBatches"] = (options, handler) =>
      run(options, { _tag: "Batches", handler, maxBatchSize: options.maxBatchSize ?? 500 })

    return { publish, consume, consumeBatches, ping } satisfies KafkaShape
  })

export const KafkaLive = Layer.scoped(
  Kafka,
  Effect.flatMap(AppConfig, (config) =>
    makeKafkaLive({ brokers: config.kafka.brokers, clientId: config.kafka.clientId }))
)
