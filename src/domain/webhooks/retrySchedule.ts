import { Duration, Option, Schedule } from "effect"

/**
 * The webhook retry table (SPEC.md "Webhook delivery"), declared once as data:
 * after failed attempt n of a cycle, wait `retryTable[n - 1]` before the next;
 * when the table is exhausted (attempt 5 of the cycle failed) the delivery is
 * dead-lettered. `next_retry_at`, the Schedule and the docs all read this.
 */
export const retryTable: ReadonlyArray<Duration.Duration> = [
  Duration.minutes(1),
  Duration.minutes(5),
  Duration.minutes(30),
  Duration.hours(2)
]

/** The table as an Effect Schedule (for code that retries with `Effect.retry`). */
export const webhookRetrySchedule = Schedule.fromDelays(retryTable[0]!, ...retryTable.slice(1))

/** Attempts a delivery gets in one cycle: the first, then one per delay. */
export const maxAttempts = retryTable.length + 1

/**
 * The wait before the next attempt once `failedAttempts` attempts of the
 * current cycle have failed, or None when no attempt is left (dead letter).
 */
export const delayAfterFailedAttempt = (failedAttempts: number): Option.Option<Duration.Duration> =>
  failedAttempts >= 1 ? Option.fromNullable(retryTable[failedAttempts - 1]) : Option.some(Duration.zero)
