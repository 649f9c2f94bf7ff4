import { Effect } from "effect"

/** Re-runs `effect` every 100 ms until `done` holds for its result (which it returns), for at most `within`. */
export const eventually = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  within: `${number} seconds` = "15 seconds"
) =>
  Effect.gen(function*() {
    while (true) {
      const a = yield* effect
      if (done(a)) return a
      yield* Effect.sleep("100 millis")
    }
  }).pipe(Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`condition not met within ${within}`) }))
