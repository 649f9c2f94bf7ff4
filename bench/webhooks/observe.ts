/**
 * What the database says about the deliveries, read over a connection of the
 * bench's own (not the service's pool, so observing does not take its connections).
 */
import type pg from "pg"
import { fmt } from "../support/report.ts"
import type { Receiver } from "../support/receiver.ts"
import { progress, runStartedAt as t0, sleep, wallNow } from "../support/run.ts"
import { RUN_DEADLINE_MS, settings } from "./settings.ts"

export interface DeliveryRow {
  readonly delivery_id: string
  readonly status: string
  readonly attempt_number: number
  readonly sent: number | null
  readonly created: number
  readonly delivered: number | null
}

export const deliveryRows = (db: pg.Client, eventType: string) =>
  db.query<DeliveryRow>(
    `SELECT delivery_id::text, status::text, attempt_number,
            (event_payload->'data'->>'sentAt')::float8 AS sent,
            (extract(epoch FROM created_at) * 1000)::float8 AS created,
            (extract(epoch FROM delivered_at) * 1000)::float8 AS delivered
     FROM webhook_deliveries WHERE event_type = $1`,
    [eventType]
  ).then((r) => r.rows)

const deliveryCounts = (db: pg.Client, eventType: string) =>
  db.query<{ created: number; delivered: number }>(
    `SELECT count(*)::int AS created, count(*) FILTER (WHERE status = 'DELIVERED')::int AS delivered
     FROM webhook_deliveries WHERE event_type = $1`,
    [eventType]
  ).then((r) => r.rows[0]!)

/** Deliveries per status, attempts made and outbox rows left, for the report's database state line. */
export const databaseState = async (db: pg.Client, eventType: string) => {
  const statuses = await db.query<{ status: string; n: number }>(
    "SELECT status::text, count(*)::int AS n FROM webhook_deliveries WHERE event_type = $1 GROUP BY 1 ORDER BY 1",
    [eventType]
  )
  const attempts = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_delivery_attempts a JOIN webhook_deliveries d USING (delivery_id)
     WHERE d.event_type = $1`,
    [eventType]
  )
  const outboxLeft = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM kafka_outbox")
  return { statuses: statuses.rows, attempts: attempts.rows[0]?.n, outboxLeft: outboxLeft.rows[0]?.n }
}

/**
 * Waits until `expected` deliveries of `eventType` are DELIVERED in the database
 * (or the phase times out), printing progress.
 */
export const awaitDelivered = async (
  db: pg.Client,
  receiver: Receiver,
  eventType: string,
  expected: number,
  since: number
) => {
  // Never past the run's deadline: the report and the cleanup need their time too.
  const deadline = Math.min(wallNow() + settings.phaseTimeoutMs, t0 + RUN_DEADLINE_MS - 25_000)
  let lastPrint = 0
  let counts = { created: 0, delivered: 0 }
  for (;;) {
    const received = await receiver.stats()
    // Count in the database once the receiver is close, and every second while it is not.
    if (received.count >= expected || wallNow() - lastPrint >= 1000) {
      counts = await deliveryCounts(db, eventType)
    }
    if (wallNow() - lastPrint >= 1000) {
      lastPrint = wallNow()
      progress(
        `  +${((wallNow() - since) / 1000).toFixed(1)}s: deliveries created ${counts.created}/${expected}, ` +
          `received ${received.count}, DELIVERED in DB ${counts.delivered}`
      )
    }
    if (counts.delivered >= expected) return { complete: true, counts }
    if (wallNow() > deadline) {
      progress(`  phase timed out after ${fmt((wallNow() - since) / 1000, 1)} s`)
      return { complete: false, counts }
    }
    await sleep(received.count >= expected ? 50 : 200)
  }
}
