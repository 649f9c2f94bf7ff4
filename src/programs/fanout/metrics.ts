import { Effect, Metric } from "effect"
import { ledgerCounter, ledgerSeries } from "../counters.ts"
import type { Lane } from "../../services/DeliveryStore.ts"

/**
 * The fan-out's ledger: every consumed message is exactly one of matched (it
 * made, or had already made, a delivery or a connector run), unmatched (no
 * active subscription or config wanted it) or quarantined.
 */
export const consumed = ledgerCounter(
  "events_consumed_total",
  "Kafka messages consumed from the platform's event topics"
)
export const matched = ledgerCounter(
  "events_matched_total",
  "Consumed events matching at least one active webhook subscription or connector config"
)
export const unmatched = ledgerCounter(
  "events_unmatched_total",
  "Consumed events nothing subscribes to"
)
const quarantined = ledgerSeries(
  "events_quarantined_total",
  "Consumed messages not taken in (see GET /ops/quarantine), by reason"
)
const created = ledgerSeries(
  "deliveries_created_total",
  "Deliveries created by the fan-out, by lane (webhook deliveries and connector runs)"
)

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
    Effect.forEach(counts.quarantined, (reason) => Metric.increment(quarantined.series([["reason", reason]]))),
    Metric.incrementBy(created.series([["lane", "webhook"]]), counts.created.webhook),
    Metric.incrementBy(created.series([["lane", "connector"]]), counts.created.connector)
  ], { discard: true })
