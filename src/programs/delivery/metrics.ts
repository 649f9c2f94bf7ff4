import { Effect, Metric, MetricBoundaries } from "effect"
import type { Lane } from "../../services/DeliveryStore.ts"

/**
 * The delivery engine's ledger (GET /metrics, and OTLP when configured).
 * Every attempt ends in exactly one outcome; every claim ends attempted,
 * postponed, released at shutdown or (its holder gone) released by the sweeper.
 */
export const attempts: Metric.Metric.Counter<number> = Metric.counter("delivery_attempts_total", {
  description: "Attempts of deliveries (webhook POSTs and connector runs), by lane and outcome",
  incremental: true
})
export const defects: Metric.Metric.Counter<number> = Metric.counter("delivery_defects_total", {
  description: "Attempts that failed on a defect (a bug or an unexpected failure) and were recorded as failed attempts",
  incremental: true
})
export const loopRestarts: Metric.Metric.Counter<number> = Metric.counter("delivery_loop_restarts_total", {
  description: "Engine loops (workers, claimers, writer, relay, sweeper) restarted after an unexpected failure",
  incremental: true
})
export const claimsReleased: Metric.Metric.Counter<number> = Metric.counter("delivery_claims_released_total", {
  description: "Claims let go of without an attempt: by the sweeper (their holder died) or at shutdown",
  incremental: true
})
export const resultsUnrecordable: Metric.Metric.Counter<number> = Metric.counter("delivery_results_unrecordable_total", {
  description: "Attempt results the database refused even alone and stripped down: their claims were released",
  incremental: true
})
export const resultsWaiting = Metric.gauge("delivery_results_waiting", {
  description: "Attempt results held in memory because the database is unreachable"
})
export const outboxPublished: Metric.Metric.Counter<number> = Metric.counter("outbox_messages_published_total", {
  description: "Outbox messages published to Kafka",
  incremental: true
})
export const outboxSetAside: Metric.Metric.Counter<number> = Metric.counter("outbox_messages_set_aside_total", {
  description: "Outbox messages Kafka can never accept (too large, refused), moved to kafka_outbox_set_aside",
  incremental: true
})

export type AttemptOutcome = "delivered" | "failed" | "dead_lettered" | "postponed"

export const countAttempt = (lane: Lane, outcome: AttemptOutcome) =>
  Metric.increment(Metric.tagged(Metric.tagged(attempts, "lane", lane), "outcome", outcome))

export const countDefect = (lane: Lane) => Metric.increment(Metric.tagged(defects, "lane", lane))

export const countRestart = (loop: string) => Metric.increment(Metric.tagged(loopRestarts, "loop", loop))

export const countReleased = (by: "sweeper" | "shutdown", n: number) =>
  n === 0 ? Effect.void : Metric.incrementBy(Metric.tagged(claimsReleased, "by", by), n)

/** Event `occurredAt` → the receiver's 2xx: what a subscriber waits for an event, retries included. */
export const webhookDeliveryLatency = Metric.histogram(
  "webhook_delivery_latency_seconds",
  MetricBoundaries.fromIterable([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400]),
  "Time from an event's occurredAt to the receiver's 2xx answer, in seconds"
)
