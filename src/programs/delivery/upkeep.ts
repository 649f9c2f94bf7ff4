import { Effect, Ref } from "effect"
import type { EngineDeps } from "./engineDeps.ts"
import { supervised } from "./supervised.ts"
import { millis } from "./timings.ts"

/**
 * Keeps the engine's tables vacuumed and analyzed when the server's autovacuum
 * is off (see `tableUpkeep`): without it every claim and result leaves a dead
 * row behind, and claims slow down as they pile up. Said once in the log;
 * a server that refuses (not the tables' owner) is said once and left alone.
 */
export const runTableUpkeep = (deps: Pick<EngineDeps, "store" | "timings" | "health">) =>
  Effect.gen(function*() {
    const announced = yield* Ref.make(false)
    const step = Effect.gen(function*() {
      yield* Effect.sleep(millis(deps.timings.upkeepInterval))
      const done = yield* deps.store.tableUpkeep.pipe(Effect.tapError(deps.health.noteOutage))
      if (done.serverDoesIt) return
      if (!(yield* Ref.getAndSet(announced, true))) {
        yield* Effect.logInfo("the database's autovacuum is off: the delivery engine vacuums and analyzes its own tables")
      }
      if (done.vacuumed.length + done.analyzed.length > 0) {
        yield* Effect.logDebug("engine tables upkept").pipe(
          Effect.annotateLogs({ vacuumed: done.vacuumed.join(","), analyzed: done.analyzed.join(",") })
        )
      }
    })
    const refused = Effect.logWarning("the database refused to vacuum the engine's tables; table upkeep stops").pipe(
      Effect.zipRight(Effect.never)
    )
    yield* Effect.forkScoped(
      supervised(
        "table upkeep",
        step.pipe(Effect.catchIf((e) => e.kind === "Rejected", (e) => Effect.annotateLogs(refused, { why: e.message })))
      )
    )
  })
