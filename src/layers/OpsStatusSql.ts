import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import { type LaneBacklog, OpsStatus } from "../services/OpsStatus.ts"
import { persistence } from "./sqlErrors.ts"

interface Row {
  readonly lane: "webhooks" | "connectors"
  readonly pending: number
  readonly failed: number
  readonly oldest_due_at: Date | null
  readonly dead_24h: number
}

const empty: LaneBacklog = { pending: 0, failed: 0, oldestDueAt: null, deadLetteredLast24h: 0 }

export const makeOpsStatusSql = Effect.gen(function*() {
  const sql = yield* SqlClient
  const backlog = sql<Row>`
    SELECT CASE WHEN subscription_id IS NULL THEN 'connectors' ELSE 'webhooks' END AS lane,
           count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
           count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
           min(next_retry_at) FILTER (WHERE status IN ('PENDING', 'FAILED') AND next_retry_at <= now()) AS oldest_due_at,
           count(*) FILTER (WHERE status = 'DEAD_LETTERED' AND updated_at >= now() - interval '24 hours')::int AS dead_24h
    FROM webhook_deliveries
    WHERE status IN ('PENDING', 'FAILED') OR updated_at >= now() - interval '24 hours'
    GROUP BY 1`.pipe(
    persistence("backlog"),
    Effect.map((rows) => {
      const of = (lane: Row["lane"]): LaneBacklog => {
        const row = rows.find((r) => r.lane === lane)
        return row === undefined
          ? empty
          : { pending: row.pending, failed: row.failed, oldestDueAt: row.oldest_due_at, deadLetteredLast24h: row.dead_24h }
      }
      return { webhooks: of("webhooks"), connectors: of("connectors") }
    })
  )
  return OpsStatus.of({ backlog })
})

export const OpsStatusSql = Layer.effect(OpsStatus, makeOpsStatusSql)
