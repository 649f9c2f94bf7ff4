import { Effect, Metric } from "effect"
import type { Lane } from "../../services/DeliveryStore.ts"

/**
 * The fan-out's ledger: every consumed message is exactly one of matched (it
 * made, or had already made, a delivery or a connector run), unmatched (no
 * active subscription or config wanted it) or quarantined.
 */
export const consumed: Metric.Metric.Counter<number> = Metric.counter("events_consumed_total", {
  description: "Kafka messages consumed from the platform's event topics",
  incremental: true
})
export const matched: Metric.Metric.Counter<number> = Metric.counter("events_matched_total", {
  description: "Consumed events matching at least one active webhook subscription or connector config",
  incremental: true
})
export const unmatched: Metric.Metric.Counter<number> = Metric.counter("events_unmatched_total", {
  description: "Consumed events nothing subscribes to",
  incremental: true
})
export const quarantined: Metric.Metric.Counter<number> = Metric.counter("events_quarantined_total", {
  description: "Consumed messages not taken in (see GET /ops/quarantine), by reason",
  incremental: true
})
export const created: Metric.Metric.Counter<number> = Metric.counter("deliveries_created_total", {
  description: "Deliveries created by the fan-out, by lane (webhook deliveries and connector runs)",
  incremental: true
})

export const countBatch = (counts: {
  readonly consumed: number
  readonly matched: number
  readonly unmatched: number
  readonly quarantined: ReadonlyArray<string>
  readonly created: Readonly<Record<Lane, number>>
}) =>
  Effect.all([
    Metric.incrementBy(consumed, counts.consumed),
    Metric.incrementBy(matched, counts.matched),
    Metric.incrementBy(unmatched, counts.unmatched),
    Effect.forEach(counts.quarantined, (reason) => Metric.increment(Metric.tagged(quarantined, "reason", reason))),
    Metric.incrementBy(Metric.tagged(created, "lane", "webhook"), counts.created.webhook),
    Metric.incrementBy(Metric.tagged(created, "lane", "connector"), counts.created.connector)
  ], { discard: true })
