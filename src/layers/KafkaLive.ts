import { Deferred, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { Kafka as KafkaJs, logLevel, Partitioners } from "kafkajs"
import { AppConfig } from "../services/AppConfig.ts"
import { type ConsumeOptions, Kafka, KafkaError, type KafkaShape } from "../services/Kafka.ts"
import { startMember } from "./kafka/member.ts"
import { errorText, isPermanentPublishError, kafkaJsLogger, lazily, type Mode, sameTopics, toKafkaMessage } from "./kafka/support.ts"

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
                const member = yield* startMember(kafka, { tuning, handlerRetry }, options, topics, mode, runtime)
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
