import { Context, Duration } from "effect"

/**
 * The engine's timings. Production uses the defaults; tests shorten them by
 * providing this reference (the same engine, configured, never a second wiring).
 */
export interface DeliveryTimingsShape {
  /** False: this instance runs no delivery engine (it serves the HTTP API and consumes events only). */
  readonly runEngine: boolean
  /** How often due retries are looked for (SPEC: a due retry goes out within ~2 s). */
  readonly pollInterval: Duration.DurationInput
  /** Leases are renewed this often while held; a lease lasts a lane's leaseSeconds. */
  readonly renewInterval: Duration.DurationInput
  /** How often expired claims (their holder died) are released. */
  readonly sweepInterval: Duration.DurationInput
  /**
   * While a lane has a backlog, room frees one finished attempt at a time: its poller, woken
   * by freed room, waits this long for more before claiming, so that one claim takes many
   * (fewer, larger statements; the store's CPU per delivery is what bounds a burst).
   */
  readonly claimGather: Duration.DurationInput
  /** The result writer waits this long after a batch's first outcome for more to write with it. */
  readonly writeGather: Duration.DurationInput
  /** How often the outbox is relayed to Kafka when nothing signals it. */
  readonly outboxInterval: Duration.DurationInput
  /** Webhook attempts in flight at once (per instance), and how long a webhook claim holds. */
  readonly webhookConcurrency: number
  readonly webhookLeaseSeconds: number
  /** The same for connector runs (which may take up to two minutes: throttled marketplaces). */
  readonly connectorConcurrency: number
  readonly connectorLeaseSeconds: number
  /** Payload bytes one instance holds at once (claimed, not yet attempted or recorded). */
  readonly maxBytesInHand: number
  /** How long an attempt waits after an outage on our side (Vault, the database) before it is tried again. */
  readonly postponeDelay: Duration.DurationInput
  /** At shutdown, results are written for at most this long when the database is unreachable. */
  readonly shutdownWriteTimeout: Duration.DurationInput
  /** How often the webhook backlog and endpoint states are read for /metrics. */
  readonly backlogSampleInterval: Duration.DurationInput
  /** How often the engine looks whether its tables need vacuuming (only when the server's autovacuum is off). */
  readonly upkeepInterval: Duration.DurationInput
}

export const defaultDeliveryTimings: DeliveryTimingsShape = {
  runEngine: true,
  pollInterval: "1 second",
  renewInterval: "3 seconds",
  sweepInterval: "2 seconds",
  claimGather: "5 millis",
  writeGather: "10 millis",
  outboxInterval: "1 second",
  webhookConcurrency: 128,
  // Renewed every 3 s: a dead instance's claims come back within ~10 s (+ a sweep, + a poll).
  webhookLeaseSeconds: 10,
  connectorConcurrency: 8,
  connectorLeaseSeconds: 30,
  maxBytesInHand: 64 * 1024 * 1024,
  postponeDelay: "5 seconds",
  shutdownWriteTimeout: "20 seconds",
  backlogSampleInterval: "15 seconds",
  upkeepInterval: "5 seconds"
}

export class DeliveryTimings extends Context.Reference<DeliveryTimings>()("integration-service/DeliveryTimings", {
  defaultValue: () => defaultDeliveryTimings
}) {}

export const millis = (d: Duration.DurationInput) => Duration.toMillis(Duration.decode(d))
