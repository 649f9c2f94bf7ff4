/**
 * KafkaDev, the in-process bus: the same semantics as KafkaLive (see kafka.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Option, Queue, Ref, Schedule, Scope } from "effect"
import { makeKafkaDev } from "../src/layers/KafkaDev.ts"
import type { IncomingMessage } from "../src/services/Kafka.ts"

const text = (m: IncomingMessage) => (m.value === null ? null : new TextDecoder().decode(m.value))
const take = <A>(queue: Queue.Queue<A>) =>
  Queue.take(queue).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("no message within 5 s") }))
const makeBus = makeKafkaDev({ handlerRetry: Schedule.spaced("20 millis") })

describe("KafkaDev (in-process bus)", () => {
  it.scopedLive("(a) round trip: key, value and headers arrive", () =>
    Effect.gen(function*() {
      const kafka = yield* makeBus
      const received = yield* Queue.unbounded<IncomingMessage>()
      yield* kafka.publish("orders", [])
      yield* kafka.consume({ groupId: "g", topics: /^orders$/ }, (m) => Queue.offer(received, m))
      yield* kafka.publish("orders", [{ key: "store-1", value: `{"eventId":"e1"}`, headers: { "x-trace": "t-1" } }])
      yield* kafka.publish("other", [{ key: "store-1", value: "not subscribed" }])

      const m = yield* take(received)
      expect([m.topic, m.partition, m.offset, m.key, text(m)]).toEqual(["orders", 0, "0", "store-1", `{"eventId":"e1"}`])
      expect(m.headers).toEqual({ "x-trace": "t-1" })
      yield* kafka.ping
      // A sentinel after it on the same topic: a duplicate would have been handed over before it.
      yield* kafka.publish("orders", [{ key: "store-1", value: "sentinel" }])
      const sentinel = yield* take(received)
      expect([sentinel.offset, text(sentinel)]).toEqual(["1", "sentinel"])
      expect(yield* Queue.size(received)).toBe(0)
    }))

  it.scopedLive("(b) a failing handler gets the same message again; the offset is committed only after success", () =>
    Effect.gen(function*() {
      const kafka = yield* makeBus
      const attempts = yield* Ref.make(0)
      const seen = yield* Queue.unbounded<{ attempt: number; offset: string; committed: Option.Option<string> }>()
      yield* kafka.consume({ groupId: "g", topics: /^orders$/ }, (m) =>
        Effect.gen(function*() {
          const attempt = yield* Ref.updateAndGet(attempts, (n) => n + 1)
          const committed = yield* kafka.committedOffset("g", "orders")
          yield* Queue.offer(seen, { attempt, offset: m.offset, committed })
          if (attempt === 1) return yield* Effect.fail("first attempt fails")
        }))
      yield* kafka.publish("orders", [{ key: "k", value: "v" }])

      expect(yield* take(seen)).toEqual({ attempt: 1, offset: "0", committed: Option.none() })
      expect(yield* take(seen)).toEqual({ attempt: 2, offset: "0", committed: Option.none() })
      // The next message is handed over only after the first succeeded: its handler sees the commit.
      yield* kafka.publish("orders", [{ key: "k", value: "v2" }])
      expect(yield* take(seen)).toEqual({ attempt: 3, offset: "1", committed: Option.some("1") })
    }))

  it.scopedLive("(c) after a failure and a close, a new consumer in the same group gets the uncommitted message", () =>
    Effect.gen(function*() {
      const kafka = yield* makeBus
      const failed = yield* Deferred.make<string>()
      const first = yield* Scope.make()
      yield* kafka.consume({ groupId: "g", topics: /^orders$/ }, (m) =>
        Deferred.succeed(failed, m.offset).pipe(Effect.zipRight(Effect.fail("always fails")))).pipe(Scope.extend(first))
      yield* kafka.publish("orders", [{ key: "k", value: "again" }])
      expect(yield* Deferred.await(failed)).toBe("0")
      yield* Scope.close(first, Exit.void)

      const received = yield* Queue.unbounded<IncomingMessage>()
      yield* kafka.consume({ groupId: "g", topics: /^orders$/ }, (m) => Queue.offer(received, m))
      const m = yield* take(received)
      expect([m.offset, text(m)]).toEqual(["0", "again"])
    }))

  it.scopedLive("(d) a matching topic created after the consumer started is consumed; one member per group serves it", () =>
    Effect.gen(function*() {
      const kafka = yield* makeBus
      const received = yield* Queue.unbounded<string>()
      for (const member of ["m1", "m2"]) {
        yield* kafka.consume({ groupId: "g", topics: /^events\./ }, (m) => Queue.offer(received, `${member}:${text(m)}`))
      }
      yield* kafka.publish("events.late", [{ key: "k", value: "late" }])
      const first = yield* take(received)
      expect(first).toMatch(/^m[12]:late$/)
      // A sentinel after it: the same member serves it, and no second member handed "late" over before it.
      yield* kafka.publish("events.late", [{ key: "k", value: "sentinel" }])
      expect(yield* take(received)).toBe(`${first.split(":")[0]}:sentinel`)
      expect(yield* Queue.size(received)).toBe(0)
    }))
})
