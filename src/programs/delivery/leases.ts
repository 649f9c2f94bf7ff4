import { Effect } from "effect"
import type { EngineDeps } from "./engineDeps.ts"
import { countReleased } from "./metrics.ts"
import { supervised } from "./supervised.ts"
import { millis } from "./timings.ts"

/**
 * Keeps this instance's claims alive and frees dead instances' ones. Leases
 * are short and renewed while held (queued, in flight, or waiting to be
 * recorded), so a claim never runs out under a slow receiver or a throttled
 * marketplace, and a claim whose holder died (kill -9) is free again within a
 * lease plus a sweep.
 */
export const runLeaseKeeper = (deps: EngineDeps) =>
  Effect.gen(function*() {
    const renew = Effect.forEach(deps.lanes, (lane) => {
      const ids = deps.holdings.ids(lane.lane)
      return ids.length === 0 ? Effect.void : deps.store.renewLeases(ids, deps.owner, lane.leaseSeconds)
    }, { discard: true }).pipe(Effect.tapError(() => deps.health.failed))
    yield* Effect.forkScoped(
      supervised("lease keeper", Effect.zipRight(Effect.sleep(millis(deps.timings.renewInterval)), renew))
    )

    // Holders renew every renewInterval: two of them after an outage, every live holder
    // has renewed its leases (and written its waiting results).
    const settled = millis(deps.timings.renewInterval) * 2
    const release = deps.store.releaseExpiredLeases.pipe(
      Effect.tapError(() => deps.health.failed),
      Effect.tap((released) =>
        released === 0 ? Effect.void : Effect.logWarning("released expired delivery claims").pipe(
          Effect.annotateLogs({ released }),
          Effect.zipRight(countReleased("sweeper", released))
        )
      )
    )
    const sweep = deps.health.quietFor(settled).pipe(
      Effect.flatMap((quiet) => (quiet ? release : Effect.void)),
      Effect.zipRight(Effect.sleep(millis(deps.timings.sweepInterval)))
    )
    yield* Effect.forkScoped(supervised("sweeper", sweep))
  })
