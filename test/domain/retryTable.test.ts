/**
 * The retry table (1 m / 5 m / 30 m / 2 h, then dead letter) as the engine
 * reads it, and the same Schedule driven on a TestClock: each retry happens
 * exactly when the table says, and not a millisecond before.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { delayAfterFailedAttempt, maxAttempts, webhookRetrySchedule } from "../../src/domain/webhooks/retrySchedule.ts"

const table = [Duration.minutes(1), Duration.minutes(5), Duration.minutes(30), Duration.hours(2)]

describe("the retry table", () => {
  it("gives the wait after each failed attempt, and none after the fifth", () => {
    expect(maxAttempts).toBe(5)
    expect(delayAfterFailedAttempt(0)).toEqual(Option.some(Duration.zero))
    for (const [i, delay] of table.entries()) expect(delayAfterFailedAttempt(i + 1)).toEqual(Option.some(delay))
    expect(Option.isNone(delayAfterFailedAttempt(5))).toBe(true)
    expect(Option.isNone(delayAfterFailedAttempt(6))).toBe(true)
  })

  it.effect("as a Schedule on a TestClock: attempts at 0, 1 m, 6 m, 36 m and 2 h 36 m, then it gives up", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make<Array<number>>([])
      const attempt = Effect.flatMap(TestClock.currentTimeMillis, (now) =>
        Ref.update(attempts, (at) => [...at, now])).pipe(Effect.zipRight(Effect.fail("receiver down" as const)))
      const run = yield* Effect.fork(Effect.retry(attempt, webhookRetrySchedule))
      let elapsed = Duration.zero
      for (const delay of table) {
        // A millisecond early: the next attempt has not happened yet.
        yield* TestClock.adjust(Duration.subtract(delay, Duration.millis(1)))
        const before = (yield* Ref.get(attempts)).length
        yield* TestClock.adjust(Duration.millis(1))
        elapsed = Duration.sum(elapsed, delay)
        const after = yield* Ref.get(attempts)
        expect(after.length).toBe(before + 1)
        expect(after.at(-1)).toBe(Duration.toMillis(elapsed))
      }
      const exit = yield* Fiber.await(run)
      expect(exit._tag).toBe("Failure")
      expect(yield* Ref.get(attempts)).toEqual([0, 60_000, 360_000, 2_160_000, 9_360_000])
    }))
})
