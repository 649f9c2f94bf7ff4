import { Effect, Metric, MetricBoundaries } from "effect"
import { ledgerCounter, ledgerSeries } from "../counters.ts"
import type { Lane } from "../../services/DeliveryStore.ts"

/**
 * The delivery engine's ledger (GET /metrics, and OTLP when configured).
 * Every attempt ends in exactly one outcome; every claim ends attempted,
 * postponed, released at shutdown or (its holder gone) released by the sweeper.
 */
const attemptsLedger = ledgerSeries(
  "delivery_attempts_total",
  "Attempts of deliveries (webhook POSTs and connector runs), by lane and outcome"
)
const defectsLedger = ledgerSeries(
  "delivery_defects_total",
  "Attempts that failed on a defect (a bug or an unexpected failure) and were recorded as failed attempts"
)
const loopRestartsLedger = ledgerSeries(
  "delivery_loop_restarts_total",
  "Engine loops (workers, claimers, writer, relay, sweeper) restarted after an unexpected failure"
)
const claimsReleasedLedger = ledgerSeries(
  "delivery_claims_released_total",
  "Claims let go of without an attempt: by the sweeper (their holder died), at shutdown, or claimed ahead for an endpoint that then failed"
)
export const claimsReleased = claimsReleasedLedger.counter
export const resultsUnrecordable = ledgerCounter(
  "delivery_results_unrecordable_total",
  "Attempt results the database refused even alone and stripped down: their claims were released"
)
export const resultsWaiting = Metric.gauge("delivery_results_waiting", {
  description: "Attempt results held in memory because the database is unreachable"
})
export const outboxPublished = ledgerCounter(
  "outbox_messages_published_total",
  "Outbox messages published to Kafka"
)
export const outboxSetAside = ledgerCounter(
  "outbox_messages_set_aside_total",
  "Outbox messages Kafka can never accept (too large, refused), moved to kafka_outbox_set_aside"
)

export type AttemptOutcome = "delivered" | "failed" | "dead_lettered" | "postponed"

// Every attempt counts itself: each series is keyed once (see ledgerSeries), not per update, and
// counted in the attempt's own synchronous step (no fiber labels are added to these series).
export const countAttemptNow = (lane: Lane, outcome: AttemptOutcome) =>
  attemptsLedger.series([["lane", lane], ["outcome", outcome]]).unsafeUpdate(1, [])

export const countDefect = (lane: Lane) => Metric.increment(defectsLedger.series([["lane", lane]]))

export const countRestart = (loop: string) => Metric.increment(loopRestartsLedger.series([["loop", loop]]))

export const countReleased = (by: "sweeper" | "shutdown" | "endpoint_failed", n: number) =>
  n === 0 ? Effect.void : Metric.incrementBy(claimsReleasedLedger.series([["by", by]]), n)

/** Event `occurredAt` → the receiver's 2xx: what a subscriber waits for an event, retries included. */
export const webhookDeliveryLatency = Metric.histogram(
  "webhook_delivery_latency_seconds",
  MetricBoundaries.fromIterable([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400]),
  "Time from an event's occurredAt to the receiver's 2xx answer, in seconds"
)
