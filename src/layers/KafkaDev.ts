import { Deferred, Effect, Exit, FiberId, Layer, Option, Schedule, Scope } from "effect"
import { type ConsumeOptions, type IncomingMessage, Kafka, type KafkaShape } from "../services/Kafka.ts"

/** The in-process bus: every topic has one partition (0), kept in memory for the process's life. */
export interface KafkaDevShape extends KafkaShape {
  /** The group's committed offset (the next one to read), like admin.fetchOffsets; none yet: None. */
  readonly committedOffset: (groupId: string, topic: string) => Effect.Effect<Option.Option<string>>
}

export interface KafkaDevOptions {
  /** Delays between attempts of a failing handler on the same message. Default 200 ms doubling, capped at 30 s. */
  readonly handlerRetry?: Schedule.Schedule<unknown, unknown>
}

const defaultHandlerRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("200 millis").pipe(
  Schedule.union(Schedule.spaced("30 seconds"))
)

export const makeKafkaDev = (options: KafkaDevOptions = {}): Effect.Effect<KafkaDevShape> =>
  Effect.sync(() => {
    const handlerRetry = options.handlerRetry ?? defaultHandlerRetry
    const topics = new Map<string, Array<IncomingMessage>>()
    const committed = new Map<string, number>()
    // Like a partition assignment: one member of a group serves a topic at a time.
    const owners = new Map<string, symbol>()
    const groupTopic = (groupId: string, topic: string) => JSON.stringify([groupId, topic])

    // Waiters grab the current signal before checking state, so no change is missed between the two.
    let signal = Deferred.unsafeMake<void>(FiberId.none)
    const notify = () => {
      const fired = signal
      signal = Deferred.unsafeMake<void>(FiberId.none)
      Deferred.unsafeDone(fired, Exit.void)
    }
    const awaitUntil = <A>(check: () => Option.Option<A>): Effect.Effect<A> =>
      Effect.suspend(() => {
        const next = signal
        return Option.match(check(), {
          onSome: Effect.succeed,
          onNone: () => Deferred.await(next).pipe(Effect.zipRight(awaitUntil(check)))
        })
      })

    const publish: KafkaShape["publish"] = (topic, messages) =>
      Effect.sync(() => {
        const log = topics.get(topic) ?? []
        topics.set(topic, log)
        for (const m of messages) {
          log.push({
            topic,
            partition: 0,
            offset: String(log.length),
            key: m.key,
            value: new TextEncoder().encode(m.value),
            headers: { ...m.headers },
            timestamp: String(Date.now())
          })
        }
        notify()
      })

    const tryClaim = (options: ConsumeOptions, topic: string, member: symbol): Option.Option<number> => {
      const key = groupTopic(options.groupId, topic)
      if (owners.has(key)) return Option.none()
      owners.set(key, member)
      const fromBeginning = options.fromBeginning ?? true
      return Option.some(committed.get(key) ?? (fromBeginning ? 0 : (topics.get(topic)?.length ?? 0)))
    }
    // Runs as an acquireRelease acquire: only the wait is interruptible, never a claim already made.
    const claim = (options: ConsumeOptions, topic: string, member: symbol): Effect.Effect<number> =>
      Effect.suspend(() => {
        const next = signal
        return Option.match(tryClaim(options, topic, member), {
          onSome: Effect.succeed,
          onNone: () => Effect.interruptible(Deferred.await(next)).pipe(Effect.zipRight(claim(options, topic, member)))
        })
      })
    const release = (options: ConsumeOptions, topic: string, member: symbol) =>
      Effect.sync(() => {
        const key = groupTopic(options.groupId, topic)
        if (owners.get(key) === member) owners.delete(key)
        notify()
      })

    const serveFrom = <E, R>(
      options: ConsumeOptions,
      topic: string,
      handler: (message: IncomingMessage) => Effect.Effect<void, E, R>,
      offset: number
    ): Effect.Effect<never, never, R> => {
      const key = groupTopic(options.groupId, topic)
      const handle = (message: IncomingMessage) =>
        Effect.uninterruptible(
          handler(message).pipe(
            Effect.tapErrorCause((cause) =>
              Effect.logWarning("kafka message handler failed; retrying the same message", cause)
            ),
            Effect.zipRight(Effect.sync(() => {
              committed.set(key, Number(message.offset) + 1)
              notify()
            }))
          )
        ).pipe(
          Effect.sandbox,
          Effect.retry(handlerRetry),
          Effect.orDie, // unreachable: the retry schedule never gives up
          Effect.annotateLogs({ topic, partition: 0, offset: message.offset })
        )
      return awaitUntil(() => Option.fromNullable(topics.get(topic)?.[offset])).pipe(
        Effect.flatMap(handle),
        Effect.flatMap(() => serveFrom(options, topic, handler, offset + 1))
      )
    }

    const consume: KafkaShape["consume"] = <E, R>(
      options: ConsumeOptions,
      handler: (message: IncomingMessage) => Effect.Effect<void, E, R>
    ) =>
      Effect.gen(function*() {
        const scope = yield* Effect.scope
        const member = Symbol(options.groupId)
        const re = new RegExp(options.topics.source, options.topics.flags.replace(/[gy]/g, ""))
        const served = new Set<string>()
        const newTopics = () => [...topics.keys()].filter((t) => !served.has(t) && re.test(t))

        // Topics free in the group are claimed synchronously, so once consume returns (like a
        // joined group) a later publish is seen even with fromBeginning: false.
        const start = (topic: string) =>
          Effect.suspend(() => {
            served.add(topic)
            return Option.match(tryClaim(options, topic, member), {
              onSome: (offset) =>
                Scope.addFinalizer(scope, release(options, topic, member)).pipe(
                  Effect.zipRight(Effect.forkIn(serveFrom(options, topic, handler, offset), scope))
                ),
              onNone: () =>
                Effect.acquireRelease(claim(options, topic, member), () => release(options, topic, member)).pipe(
                  Effect.flatMap((offset) => serveFrom(options, topic, handler, offset)),
                  Effect.scoped,
                  Effect.forkIn(scope)
                )
            })
          })

        yield* Effect.forEach(newTopics(), start, { discard: true })
        yield* awaitUntil(() => {
          const names = newTopics()
          return names.length === 0 ? Option.none() : Option.some(names)
        }).pipe(
          Effect.flatMap((names) => Effect.forEach(names, start, { discard: true })),
          Effect.forever,
          Effect.forkIn(scope)
        )
      })

    const committedOffset: KafkaDevShape["committedOffset"] = (groupId, topic) =>
      Effect.sync(() => Option.map(Option.fromNullable(committed.get(groupTopic(groupId, topic))), String))

    // The in-process bus hands over one message at a time: a batch of one.
    const consumeBatches: KafkaShape["consumeBatches"] = (options, handler) => consume(options, (m) => handler([m]))

    return { publish, consume, consumeBatches, ping: Effect.void, committedOffset } satisfies KafkaDevShape
  })

export const KafkaDev = Layer.effect(Kafka, makeKafkaDev())
