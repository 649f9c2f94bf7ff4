import { Clock, Duration, Effect, Option, Schedule } from "effect"

/**
 * The webhook retry table (SPEC.md "Webhook delivery"): after a failed
 * attempt, wait 1 m, 5 m, 30 m, 2 h before the next; when the schedule is
 * exhausted (attempt 5 failed) the delivery is dead-lettered. This Schedule is
 * the one definition: `next_retry_at` is computed from it, not from a copy.
 */
export const webhookRetrySchedule = Schedule.fromDelays("1 minute", "5 minutes", "30 minutes", "2 hours")

/** Stepping the schedule must not really wait: a clock whose sleep returns at once. */
const instantClock: Clock.Clock = {
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => 0,
  unsafeCurrentTimeNanos: () => 0n,
  currentTimeMillis: Effect.succeed(0),
  currentTimeNanos: Effect.succeed(0n),
  sleep: () => Effect.void
}

/** The schedule's delays in order, read off by stepping it until it is done (it is finite). */
const delays: ReadonlyArray<Duration.Duration> = Effect.runSync(
  Effect.gen(function*() {
    const driver = yield* Schedule.driver(Schedule.delays(webhookRetrySchedule))
    const out: Array<Duration.Duration> = []
    while (out.length < 64) {
      const next = yield* Effect.option(driver.next(undefined).pipe(Effect.withClock(instantClock)))
      if (Option.isNone(next)) break
      out.push(next.value)
    }
    return out
  })
)

/** Attempts a delivery gets in one cycle: the first, then one per delay. */
export const maxAttempts = delays.length + 1

/**
 * The wait before the next attempt once `failedAttempts` attempts have failed,
 * or None when no attempt is left (dead letter).
 */
export const delayAfterFailedAttempt = (failedAttempts: number): Option.Option<Duration.Duration> =>
  failedAttempts >= 1 ? Option.fromNullable(delays[failedAttempts - 1]) : Option.some(Duration.zero)
