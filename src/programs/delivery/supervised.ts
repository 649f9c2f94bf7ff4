import { Cause, Duration, Effect, Schedule } from "effect"
import { countRestart } from "./metrics.ts"

/** One line about a failure, for logs and attempt records: the error's name and message, never a value it carried. */
export const describeCause = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return text.slice(0, 300)
}

/** Waits between restarts of a failing loop: quick at first, then every 5 s while the failure lasts. */
const restartBackoff = Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))

/**
 * Runs `step` forever. A step that fails (the database is down) or dies (a
 * bug) is logged and counted, and the loop goes on after a pause that grows
 * while the failures last; only interruption stops it. The loop does not yield
 * between steps (`Effect.forever` does): a worker's step is one delivery, and a
 * trip through the scheduler for each cost more than the step's own bookkeeping.
 * The runtime still yields a fiber that runs long without suspending.
 */
export const supervised = <E, R>(name: string, step: Effect.Effect<unknown, E, R>) =>
  Effect.gen(function*() {
    const driver = yield* Schedule.driver(restartBackoff)
    const pause = driver.next(undefined).pipe(Effect.catchAll(() => Effect.sleep(Duration.seconds(5))))
    // After a failure, the next step that succeeds starts the backoff over.
    let failedLast = false
    const once = step.pipe(
      Effect.matchCauseEffect({
        onSuccess: () => {
          if (!failedLast) return Effect.void
          failedLast = false
          return driver.reset
        },
        onFailure: (cause) => {
          if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
          failedLast = true
          return Effect.logWarning(`delivery engine: ${name} failed; restarting it`).pipe(
            Effect.annotateLogs({ loop: name, why: describeCause(cause) }),
            Effect.zipRight(countRestart(name)),
            Effect.zipRight(pause)
          )
        }
      })
    )
    yield* Effect.whileLoop({ while: () => true, body: () => once, step: () => {} })
    return yield* Effect.never
  })
