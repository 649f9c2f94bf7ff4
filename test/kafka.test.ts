/**
 * KafkaLive against a real broker (never a mock).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Layer, Logger, LogLevel, Option, Queue, Redacted, Ref, Schedule, Scope } from "effect"
import { type Admin, Kafka as KafkaJs, logLevel } from "kafkajs"
import { randomUUID } from "node:crypto"
import { KafkaLive, makeKafkaLive } from "../src/layers/KafkaLive.ts"
import { AppConfig, defaultEventTopics } from "../src/services/AppConfig.ts"
import { type IncomingMessage, Kafka } from "../src/services/Kafka.ts"
import { testKafkaBrokerList } from "./support/context.ts"

/** Bootstrap servers; to become the harness's `inject("kafkaBrokers")`. */
/** The real broker that `npm test` (scripts/test.sh) brings up. */
const brokers = testKafkaBrokerList

const unique = (label: string) => `test.kafka.${label}.${randomUUID().slice(0, 8)}`
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
const exactly = (topic: string) => new RegExp(`^${escape(topic)}$`)
const text = (m: IncomingMessage) => (m.value === null ? null : new TextDecoder().decode(m.value))

// Short session/heartbeat/fetch wait so joins, rebalances and stops take a fraction of a second.
const fastConsumer = { sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10000, maxWaitTimeInMs: 250 }

const TestKafka = Layer.scoped(
  Kafka,
  makeKafkaLive({
    brokers: brokers(),
    clientId: "kafka-test",
    topicRefreshInterval: "500 millis",
    handlerRetry: Schedule.spaced("100 millis"),
    consumer: fastConsumer
  })
)

const TestConfig = Layer.succeed(AppConfig, {
  mode: "live",
  port: 0,
  databaseUrl: Redacted.make("postgres://unused"),
  kafka: { brokers: brokers(), clientId: "kafka-test-live", groupId: "unused", eventTopics: defaultEventTopics, maxMessageBytes: 1_000_000 },
  events: { maxBytes: 1024 * 1024, maxDepth: 64 },
  adminToken: Redacted.make("unused"),
  otlpEndpoint: Option.none(),
  webhook: { timeoutMs: 1000, allowInsecureTargets: true },
  credentials: { bcryptCost: 4, accessTokenTtlSeconds: 3600 },
  dataDir: "/tmp/unused"
})

/** A separate kafkajs admin: arranges topics and reads committed offsets independently of the code under test. */
const TestAdmin = Effect.acquireRelease(
  Effect.promise(async () => {
    const admin = new KafkaJs({ clientId: "kafka-test-admin", brokers: brokers(), logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    return admin
  }),
  (admin) => Effect.promise(() => admin.disconnect())
)

const createTopics = (admin: Admin, ...topics: Array<string>) =>
  Effect.promise(() =>
    admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })), waitForLeaders: true })
  )

const committedOffset = (admin: Admin, groupId: string, topic: string) =>
  Effect.promise(() => admin.fetchOffsets({ groupId, topics: [topic] })).pipe(
    Effect.map((result) => result[0]?.partitions.find((p) => p.partition === 0)?.offset)
  )

const eventually = <A>(effect: Effect.Effect<A>, done: (a: A) => boolean) =>
  effect.pipe(
    Effect.filterOrFail(done, (a) => new Error(`condition not reached: last value ${String(a)}`)),
    Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("15 seconds")))
  )

const take = <A>(queue: Queue.Queue<A>) =>
  Queue.take(queue).pipe(
    Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("no message within 20 s") })
  )

/** The consumers' scopes close while the Kafka layer is still up, as in the service. */
const withKafka = <A, E>(
  layer: Layer.Layer<Kafka, never>,
  body: (kafka: typeof Kafka.Service, admin: Admin) => Effect.Effect<A, E, Scope.Scope>
) =>
  Effect.scoped(Effect.flatMap(Effect.all([Kafka, TestAdmin]), ([kafka, admin]) => body(kafka, admin))).pipe(
    Effect.provide(layer)
  )

describe("KafkaLive (real broker)", () => {
  it.live("(a) round trip through the KafkaLive layer: key, value and headers arrive", () =>
    withKafka(KafkaLive.pipe(Layer.provide(TestConfig)), (kafka, admin) =>
      Effect.gen(function*() {
        const topic = unique("a")
        yield* createTopics(admin, topic)
        const received = yield* Queue.unbounded<IncomingMessage>()
        yield* kafka.consume({ groupId: unique("group"), topics: exactly(topic) }, (m) => Queue.offer(received, m))

        yield* kafka.publish(topic, [
          { key: "store-1", value: `{"eventId":"e1"}`, headers: { "x-trace": "t-1", "content-type": "application/json" } }
        ])
        const m = yield* take(received)
        expect(m.topic).toBe(topic)
        expect(m.partition).toBe(0)
        expect(m.offset).toBe("0")
        expect(m.key).toBe("store-1")
        expect(text(m)).toBe(`{"eventId":"e1"}`)
        expect(m.headers).toEqual({ "x-trace": "t-1", "content-type": "application/json" })
        yield* kafka.ping
      })
    ))

  it.live("(b) a failing handler gets the same message again; the offset is committed only after success", () =>
    withKafka(TestKafka, (kafka, admin) =>
      Effect.gen(function*() {
        const topic = unique("b")
        const groupId = unique("group")
        yield* createTopics(admin, topic)
        const attempts = yield* Ref.make(0)
        const seen = yield* Queue.unbounded<{ attempt: number; offset: string; committed: string | undefined }>()
        yield* kafka.consume({ groupId, topics: exactly(topic) }, (m) =>
          Effect.gen(function*() {
            const attempt = yield* Ref.updateAndGet(attempts, (n) => n + 1)
            const committed = yield* committedOffset(admin, groupId, topic)
            yield* Queue.offer(seen, { attempt, offset: m.offset, committed })
            if (attempt === 1) return yield* Effect.fail("first attempt fails")
          }))

        yield* kafka.publish(topic, [{ key: "k", value: "v" }])
        expect(yield* take(seen)).toEqual({ attempt: 1, offset: "0", committed: "-1" })
        // the retry sees the same message, still uncommitted after the failure
        expect(yield* take(seen)).toEqual({ attempt: 2, offset: "0", committed: "-1" })
        expect(yield* eventually(committedOffset(admin, groupId, topic), (o) => o === "1")).toBe("1")
      })
    ))

  it.live("(b2) batches: a failing batch comes again from its first message; offsets are committed after success", () =>
    withKafka(TestKafka, (kafka, admin) =>
      Effect.gen(function*() {
        const topic = unique("batch")
        const groupId = unique("group")
        yield* createTopics(admin, topic)
        yield* kafka.publish(topic, Array.from({ length: 5 }, (_, i) => ({ key: "k", value: `m${i}` })))
        const attempts = yield* Ref.make(0)
        const seen = yield* Queue.unbounded<{ offsets: ReadonlyArray<string>; committed: string | undefined }>()
        yield* kafka.consumeBatches({ groupId, topics: exactly(topic), maxBatchSize: 100 }, (batch) =>
          Effect.gen(function*() {
            const attempt = yield* Ref.updateAndGet(attempts, (n) => n + 1)
            yield* Queue.offer(seen, { offsets: batch.map((m) => m.offset), committed: yield* committedOffset(admin, groupId, topic) })
            if (attempt === 1) return yield* Effect.fail("the first batch fails")
          }))
        const first = yield* take(seen)
        expect(first.offsets[0]).toBe("0")
        expect(first.committed).toBe("-1")
        // The retry starts again at the first message of the failed batch.
        const again = yield* take(seen)
        expect(again.offsets[0]).toBe("0")
        expect(again.committed).toBe("-1")
        expect(yield* eventually(committedOffset(admin, groupId, topic), (o) => o === "5")).toBe("5")
      })
    ))

  it.live("(c) after a failure and a close, a new consumer in the same group gets the uncommitted message", () =>
    withKafka(TestKafka, (kafka, admin) =>
      Effect.gen(function*() {
        const topic = unique("c")
        const groupId = unique("group")
        yield* createTopics(admin, topic)

        const failed = yield* Deferred.make<string>()
        const first = yield* Scope.make()
        yield* kafka.consume({ groupId, topics: exactly(topic) }, (m) =>
          Deferred.succeed(failed, m.offset).pipe(Effect.zipRight(Effect.fail("always fails")))).pipe(
            Scope.extend(first)
          )
        yield* kafka.publish(topic, [{ key: "k", value: "again" }])
        expect(yield* Deferred.await(failed)).toBe("0")
        // closing stops the endless retry without committing
        yield* Scope.close(first, Exit.void)
        expect(yield* committedOffset(admin, groupId, topic)).toBe("-1")

        const received = yield* Queue.unbounded<IncomingMessage>()
        yield* kafka.consume({ groupId, topics: exactly(topic) }, (m) => Queue.offer(received, m))
        const m = yield* take(received)
        expect([m.offset, text(m)]).toEqual(["0", "again"])
        expect(yield* eventually(committedOffset(admin, groupId, topic), (o) => o === "1")).toBe("1")
      })
    ))

  it.live("(d) a matching topic created after the consumer started is consumed", () =>
    withKafka(TestKafka, (kafka, admin) =>
      Effect.gen(function*() {
        const prefix = unique("d")
        const early = `${prefix}.early`
        const late = `${prefix}.late`
        yield* createTopics(admin, early)
        const received = yield* Queue.unbounded<IncomingMessage>()
        yield* kafka.consume(
          { groupId: unique("group"), topics: new RegExp(`^${escape(prefix)}\\.`) },
          (m) => Queue.offer(received, m)
        )
        yield* kafka.publish(early, [{ key: "k", value: "early" }])
        expect(text(yield* take(received))).toBe("early")

        yield* createTopics(admin, late)
        yield* kafka.publish(late, [{ key: "k", value: "late" }])
        const m = yield* take(received)
        expect([m.topic, text(m)]).toEqual([late, "late"])
        // the restart on the new topic set must not replay the committed early message: a sentinel
        // after it on the same partition (same key) would come only after such a replay
        yield* kafka.publish(early, [{ key: "k", value: "sentinel" }])
        const sentinel = yield* take(received)
        expect([sentinel.topic, sentinel.offset, text(sentinel)]).toEqual([early, "1", "sentinel"])
        expect(yield* Queue.size(received)).toBe(0)
      })
    ))

  it.live("(e) a message retried on one partition does not hold up another partition", () =>
    withKafka(TestKafka, (kafka, admin) =>
      Effect.gen(function*() {
        const prefix = unique("e")
        const stuck = `${prefix}.stuck`
        const flowing = `${prefix}.flowing`
        yield* createTopics(admin, stuck, flowing)
        const received = yield* Queue.unbounded<string>()
        const stuckHandled = yield* Deferred.make<void>()
        yield* kafka.consume(
          { groupId: unique("group"), topics: new RegExp(`^${escape(prefix)}\\.`), partitionsConsumedConcurrently: 2 },
          (m) =>
            m.topic === stuck
              ? Deferred.succeed(stuckHandled, undefined).pipe(Effect.zipRight(Effect.fail("never succeeds")))
              : Queue.offer(received, text(m) ?? "")
        )
        yield* kafka.publish(stuck, [{ key: "k", value: "blocked" }])
        // the stuck partition is being retried before the other one gets messages
        yield* Deferred.await(stuckHandled)
        yield* kafka.publish(flowing, [{ key: "k", value: "1" }, { key: "k", value: "2" }])
        expect([yield* take(received), yield* take(received)]).toEqual(["1", "2"])
      })
    ))

  it.live("closing the scope waits for the in-flight handler, whose offset is still committed", () =>
    withKafka(TestKafka, (kafka, admin) =>
      Effect.gen(function*() {
        const topic = unique("f")
        const groupId = unique("group")
        yield* createTopics(admin, topic)
        const started = yield* Deferred.make<void>()
        const finished = yield* Ref.make(false)
        const scope = yield* Scope.make()
        yield* kafka.consume({ groupId, topics: exactly(topic) }, () =>
          Deferred.succeed(started, undefined).pipe(
            // kept: a real handler duration, so the close is under way (kafkajs waits for the batch) while it
            // runs; no signal says the disconnect has started waiting, and releasing early would prove nothing
            Effect.zipRight(Effect.sleep("1 second")),
            Effect.zipRight(Ref.set(finished, true))
          )).pipe(Scope.extend(scope))
        yield* kafka.publish(topic, [{ key: "k", value: "slow" }])
        yield* Deferred.await(started)
        yield* Scope.close(scope, Exit.void)
        expect(yield* Ref.get(finished)).toBe(true)
        expect(yield* committedOffset(admin, groupId, topic)).toBe("1")
      })
    ))

  it.live("publish and ping against an unreachable cluster fail with KafkaError", () =>
    Effect.gen(function*() {
      const kafka = yield* Kafka
      const [publishError, pingError] = yield* Effect.all(
        [Effect.flip(kafka.publish("anything", [{ key: null, value: "x" }])), Effect.flip(kafka.ping)],
        { concurrency: 2 }
      )
      expect([publishError._tag, publishError.operation]).toEqual(["KafkaError", "publish"])
      expect([pingError._tag, pingError.operation]).toEqual(["KafkaError", "admin"])
    }).pipe(
      Effect.provide(Layer.scoped(
        Kafka,
        makeKafkaLive({ brokers: ["127.0.0.1:1"], clientId: "kafka-test-down", publishTimeout: "2 seconds" })
      )),
      // kafkajs reports every refused connection at error level (also after the test: it keeps retrying ~11 s)
      Logger.withMinimumLogLevel(LogLevel.None)
    ))
})
