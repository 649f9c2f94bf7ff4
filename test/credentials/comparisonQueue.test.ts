/**
 * Who gets bcrypt, and when (ComparisonQueue), against a hasher whose every
 * comparison the test finishes by hand: at most `lanes` at once, client_ids
 * served in turn, bounded waiting that sheds with a Retry-After, decoys that
 * never take a lane from a real comparison, interrupted waiters that leave.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber, Metric, TestClock } from "effect"
import {
  comparisons,
  comparisonsShed,
  type ComparisonQueueOptions,
  ComparisonsOverloaded,
  decoysWaited,
  makeComparisonQueue
} from "../../src/programs/credentials/ComparisonQueue.ts"
import { PasswordHasher } from "../../src/services/PasswordHasher.ts"

/** Lets forked fibers run up to their next suspension. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

interface Pending {
  readonly secret: string
  readonly hash: string
  readonly done: Deferred.Deferred<boolean>
}

/** A hasher whose comparisons wait until the test finishes them (`finish`), in the order they started. */
const manualHasher = Effect.gen(function*() {
  const started: Array<Pending> = []
  const hasher = PasswordHasher.of({
    hash: (secret) => Effect.succeed(`hash:${secret}`),
    verify: (secret, hash) =>
      Effect.flatMap(Deferred.make<boolean>(), (done) => {
        started.push({ secret, hash, done })
        return Deferred.await(done)
      }),
    decoyHash: "decoy"
  })
  const finish = (secret: string, result = false) =>
    Effect.suspend(() => {
      const pending = started.find((p) => p.secret === secret)
      if (pending === undefined) return Effect.die(`${secret} has not started`)
      return Deferred.succeed(pending.done, result)
    })
  /** Finishes every comparison still running (a running one cannot be interrupted: the test would not end). */
  const finishAll = Effect.suspend(() =>
    Effect.forEach(started, (p) => Deferred.succeed(p.done, false), { discard: true })
  ).pipe(Effect.zipLeft(settle), Effect.repeatN(10))
  return { hasher, started, finish, finishAll, order: () => started.map((p) => p.secret) }
})

const options: ComparisonQueueOptions = {
  lanes: 2,
  maxWaitMs: 10_000,
  maxWaitingPerClient: 8,
  initialEstimateMs: 50,
  floodThreshold: 16,
  floodWaitMs: 1_000
}
const waited = (kind: "busy" | "flood") => Effect.map(Metric.value(Metric.tagged(decoysWaited, "kind", kind)), (s) => s.count)


describe("ComparisonQueue", () => {
  it.effect("runs at most `lanes` comparisons; waiting ones are served client_id by client_id, in turn", () =>
    Effect.gen(function*() {
      const { finish, hasher, order } = yield* manualHasher
      const queue = yield* makeComparisonQueue(hasher, options)
      const fibers = []
      for (const [client, secret] of [["x", "x1"], ["x", "x2"], ["x", "x3"], ["x", "x4"], ["x", "x5"], ["y", "y1"]] as const) {
        fibers.push(yield* Effect.fork(queue.real(client, secret, "h")))
        yield* settle
      }
      expect(order()).toEqual(["x1", "x2"])
      expect(queue.load()).toMatchObject({ running: 2, waiting: 4 })
      // x waited first, then y: the next lanes go x, y, x, x.
      yield* finish("x1")
      yield* settle
      expect(order()).toEqual(["x1", "x2", "x3"])
      yield* finish("x2")
      yield* settle
      expect(order()).toEqual(["x1", "x2", "x3", "y1"])
      yield* finish("x3", true)
      yield* finish("y1")
      yield* settle
      yield* finish("x4")
      yield* finish("x5")
      const results = yield* Effect.all(fibers.map(Fiber.join))
      expect(results).toEqual([false, false, true, false, false, false])
      expect(queue.load()).toMatchObject({ running: 0, waiting: 0 })
    }))

  it.effect("one client_id may not hold more than maxWaitingPerClient waiting; others still get in", () =>
    Effect.gen(function*() {
      const { finishAll, hasher } = yield* manualHasher
      const queue = yield* makeComparisonQueue(hasher, { ...options, maxWaitingPerClient: 2 })
      const shedBefore = (yield* Metric.value(comparisonsShed)).count
      for (let i = 0; i < 4; i++) yield* Effect.fork(queue.real("flooded", `f${i}`, "h"))
      yield* settle
      expect(queue.load()).toMatchObject({ running: 2, waiting: 2 })
      const refused = yield* Effect.either(queue.real("flooded", "f4", "h"))
      expect(Either.isLeft(refused) && refused.left).toBeInstanceOf(ComparisonsOverloaded)
      if (Either.isLeft(refused)) expect(refused.left.retryAfterSeconds).toBeGreaterThanOrEqual(1)
      expect((yield* Metric.value(comparisonsShed)).count).toBe(shedBefore + 1)
      yield* Effect.fork(queue.real("honest", "h1", "h"))
      yield* settle
      expect(queue.load()).toMatchObject({ running: 2, waiting: 3 })
      yield* finishAll
    }))

  it.effect("the whole queue holds at most maxWaitMs of work; past that, 503 with a Retry-After that covers it", () =>
    Effect.gen(function*() {
      const { finishAll, hasher } = yield* manualHasher
      // 50 ms a comparison, two lanes, 200 ms of waiting: 8 may wait.
      const queue = yield* makeComparisonQueue(hasher, { ...options, maxWaitMs: 200 })
      for (let i = 0; i < 10; i++) yield* Effect.fork(queue.real(`client-${i}`, `s${i}`, "h"))
      yield* settle
      expect(queue.load()).toMatchObject({ running: 2, waiting: 8 })
      const refused = yield* Effect.flip(queue.real("one-more", "s", "h"))
      expect(refused._tag).toBe("ComparisonsOverloaded")
      expect(refused.retryAfterSeconds).toBe(1)
      yield* finishAll
    }))

  it.effect("a decoy compares when bcrypt is idle, and otherwise waits (on no lane) as long as a comparison takes, or longer in a flood", () =>
    Effect.gen(function*() {
      const { finish, hasher, started } = yield* manualHasher
      const queue = yield* makeComparisonQueue(hasher, options)
      const decoysBefore = (yield* Metric.value(Metric.tagged(comparisons, "kind", "decoy"))).count
      const busyBefore = yield* waited("busy")
      const floodBefore = yield* waited("flood")

      // Idle: a real comparison against the decoy hash, so an unknown id costs what a wrong secret costs.
      const idle = yield* Effect.fork(queue.decoy("unknown-1"))
      yield* settle
      expect(started.map((p) => p.hash)).toEqual(["decoy"])
      expect(queue.load().running).toBe(1)
      yield* finish("unknown-1")
      yield* Fiber.join(idle)
      expect((yield* Metric.value(Metric.tagged(comparisons, "kind", "decoy"))).count).toBe(decoysBefore + 1)

      // Busy: no comparison, no lane; a real one arriving meanwhile starts at once.
      const real = yield* Effect.fork(queue.real("known", "k1", "h"))
      yield* settle
      const flood = yield* Effect.forkAll(Array.from({ length: 50 }, (_, i) => queue.decoy(`forged-${i}`)))
      yield* settle
      expect(started).toHaveLength(2)
      const honest = yield* Effect.fork(queue.real("honest", "h1", "h"))
      yield* settle
      expect(started.map((p) => p.secret)).toEqual(["unknown-1", "k1", "h1"])
      // The first 16 at once wait what a comparison takes; the rest are a flood, and wait about a second.
      expect(queue.load().unknownInFlight).toBe(50)
      yield* TestClock.adjust("60 millis")
      yield* settle
      expect(queue.load().unknownInFlight).toBe(34)
      yield* TestClock.adjust("1500 millis")
      yield* Fiber.join(flood)
      expect(queue.load().unknownInFlight).toBe(0)
      expect((yield* waited("busy")) - busyBefore).toBe(16)
      expect((yield* waited("flood")) - floodBefore).toBe(34)
      yield* finish("k1")
      yield* finish("h1", true)
      expect(yield* Fiber.join(real)).toBe(false)
      expect(yield* Fiber.join(honest)).toBe(true)
    }))

  it.effect("an interrupted waiter leaves the queue; an interrupted comparison keeps its lane until bcrypt ends", () =>
    Effect.gen(function*() {
      const { finish, finishAll, hasher, order } = yield* manualHasher
      const queue = yield* makeComparisonQueue(hasher, options)
      const first = yield* Effect.fork(queue.real("a", "a1", "h"))
      yield* Effect.fork(queue.real("b", "b1", "h"))
      const gone = yield* Effect.fork(queue.real("c", "c1", "h"))
      yield* Effect.fork(queue.real("d", "d1", "h"))
      yield* settle
      expect(queue.load()).toMatchObject({ running: 2, waiting: 2 })
      yield* Fiber.interrupt(gone)
      expect(queue.load()).toMatchObject({ running: 2, waiting: 1 })
      // A running comparison cannot be stopped (its thread runs on): its lane stays taken until it ends.
      const interrupted = yield* Effect.fork(Fiber.interrupt(first))
      yield* settle
      expect(queue.load().running).toBe(2)
      yield* finish("a1")
      yield* Fiber.join(interrupted)
      yield* settle
      expect(order()).toEqual(["a1", "b1", "d1"])
      yield* finishAll
    }))
})
