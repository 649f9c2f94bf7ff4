/**
 * The client-side throttle and token cache of a connector config, on TestClock
 * (fork first, then adjust): Amazon's getOrders plan (0.0167 requests a second,
 * burst 20) makes the 21st call wait about a minute — outside any lock, so the
 * config's other operations go on meanwhile.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, TestClock } from "effect"
import { makeThrottle, makeTokenCache } from "../../src/programs/connectors/context.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"

const getOrders = { ratePerSecond: 0.0167, burst: 20 }

/** Lets every runnable fiber run (no time passes on TestClock). */
const settle = Effect.repeatN(Effect.yieldNow(), 50)

describe("connector throttle", () => {
  it.effect("a getOrders call waiting for its slot does not hold up a listings call of the same config", () =>
    Effect.gen(function*() {
      const throttle = yield* makeThrottle
      for (let i = 0; i < getOrders.burst; i++) yield* throttle.take("getOrders", getOrders.ratePerSecond, getOrders.burst)

      const waiting = yield* Effect.fork(throttle.take("getOrders", getOrders.ratePerSecond, getOrders.burst))
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)

      // No time has passed: the listings call gets its token at once.
      const listings = yield* Effect.fork(throttle.take("listingsItems", 5, 10))
      yield* settle
      expect(Option.isSome(yield* Fiber.poll(listings))).toBe(true)
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)

      // One slot refills in 1 / 0.0167 s ≈ 60 s.
      yield* TestClock.adjust("59 seconds")
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(waiting)
    }))

  it.effect("waiting callers queue for successive slots, in order", () =>
    Effect.gen(function*() {
      const throttle = yield* makeThrottle
      const done: Array<number> = []
      for (let i = 0; i < 2; i++) yield* throttle.take("op", 1, 2)
      const fibers = yield* Effect.forEach([1, 2, 3], (n) =>
        Effect.fork(Effect.zipRight(throttle.take("op", 1, 2), Effect.sync(() => done.push(n)))))
      yield* settle
      expect(done).toEqual([])
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(done).toEqual([1])
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.joinAll(fibers)
      expect(done).toEqual([1, 2, 3])
    }))
})

describe("connector token cache", () => {
  it.effect("callers that ask together share one fetch; a refused token is dropped only while it is the current one", () =>
    Effect.gen(function*() {
      const tokens = yield* makeTokenCache
      const release = yield* Deferred.make<void>()
      let fetches = 0
      const fetch = Effect.gen(function*() {
        fetches++
        const n = fetches
        yield* Deferred.await(release)
        return { accessToken: `token-${n}`, expiresInSeconds: 3600 }
      })
      const callers = yield* Effect.forEach([1, 2, 3, 4, 5], () => Effect.fork(tokens.get(fetch)))
      yield* settle
      yield* Deferred.succeed(release, undefined)
      expect(yield* Fiber.joinAll(callers)).toEqual(["token-1", "token-1", "token-1", "token-1", "token-1"])
      expect(fetches).toBe(1)

      // Two calls refused token-1: the first refusal drops it, the second finds token-2 and keeps it.
      yield* tokens.invalidate("token-1")
      expect(yield* tokens.get(fetch)).toBe("token-2")
      yield* tokens.invalidate("token-1")
      expect(yield* tokens.get(fetch)).toBe("token-2")
      expect(fetches).toBe(2)

      // It expires (with the 60 s margin): the next get fetches.
      yield* TestClock.adjust("3541 seconds")
      expect(yield* tokens.get(fetch)).toBe("token-3")
    }).pipe(Effect.provideService(HttpOut, { request: () => Effect.dieMessage("no HTTP in this test") })))
})
