import { Clock, Effect } from "effect"
import type { PersistenceError } from "../../services/Persistence.ts"

/**
 * When the engine last saw the database unreachable (any of its loops). The
 * sweeper frees expired leases only once the database has been reachable
 * again for a while: during an outage no holder could renew its leases, and
 * freeing them the moment the database returns would hand deliveries whose
 * results are about to be written to a second attempt.
 */
export class DatabaseHealth {
  private lastFailureAt = Number.NEGATIVE_INFINITY

  readonly failed = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      this.lastFailureAt = now
    }))

  /** Notes an outage when the database was unreachable (a refused statement is no outage). */
  readonly noteOutage = (error: PersistenceError) => (error.kind === "Unavailable" ? this.failed : Effect.void)

  /** True when no failure was seen in the last `ms`. */
  readonly quietFor = (ms: number) => Effect.map(Clock.currentTimeMillis, (now) => now - this.lastFailureAt >= ms)
}
