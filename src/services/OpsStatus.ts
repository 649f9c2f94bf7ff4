import { Context, type Effect } from "effect"
import type { PersistenceError } from "./Persistence.ts"

/** Work waiting in one lane (webhook deliveries or connector runs), across every store. */
export interface LaneBacklog {
  readonly pending: number
  readonly failed: number
  /** The earliest retry that is due now or overdue (nothing due: null). */
  readonly oldestDueAt: Date | null
  readonly deadLetteredLast24h: number
}

/** What on-call asks first: how much is waiting, since when, what died lately. */
export interface OpsStatusShape {
  readonly backlog: Effect.Effect<{ readonly webhooks: LaneBacklog; readonly connectors: LaneBacklog }, PersistenceError>
}

export class OpsStatus extends Context.Tag("integration-service/OpsStatus")<OpsStatus, OpsStatusShape>() {}
