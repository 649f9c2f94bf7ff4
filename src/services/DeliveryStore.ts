import { Context, type Effect } from "effect"
import type { EventEnvelope } from "../domain/EventEnvelope.ts"
import type { BreakerPolicy, EndpointTally } from "../domain/webhooks/breaker.ts"
import type { DeliveryStatus } from "../domain/webhooks/models.ts"
import type { PersistenceError } from "./Persistence.ts"

/**
 * What the delivery engine keeps in PostgreSQL: deliveries (a webhook POST or
 * a connector run of one event), their claims and leases, the attempt
 * history, the Kafka outbox, and what was quarantined or set aside.
 */

/** Deliveries of each lane are claimed, attempted and leased apart (own workers, own queues). */
export type Lane = "webhook" | "connector"

/** A delivery a worker holds a lease on, with what the attempt needs. */
export interface ClaimedDelivery {
  readonly delivery_id: string
  readonly lane: Lane
  readonly subscription_id: string | null
  readonly config_id: string | null
  readonly store_id: string
  readonly event_type: string
  /** Attempts made so far, across re-triggers (the next one is attempt_number + 1). */
  readonly attempt_number: number
  /** Attempts made so far in this cycle: the retry table's position (a re-trigger or recover starts it at 0). */
  readonly cycle_attempts: number
  /** This cycle was started by a re-trigger or a recover. */
  readonly replay: boolean
  /** The event's `occurredAt` as the envelope has it (the delivery latency metric starts there). */
  readonly occurred_at: string | null
  /** The envelope as compact JSON: the exact bytes POSTed and signed (the same on every retry). */
  readonly body: string
  readonly target_url: string | null
  readonly secret_version: number | null
  /** A rotation's overlap is running: the previous secret signs too. */
  readonly previous_secret_active: boolean
  /** The endpoint's breaker is open: this attempt is its probe (a failure spends none of the cycle). */
  readonly probe: boolean
  /** Size of `body` in bytes, counted against the engine's in-hand budget. */
  readonly payload_bytes: number
  /** Its subscription's maxInFlight: at most this many of its requests open at once (null: a connector run). */
  readonly max_in_flight: number | null
}

/**
 * Claiming ahead: a subscription whose leases are all this instance's (by the
 * counts given, per subscription) and whose attempts are finishing (some done,
 * not yet recorded) may be leased up to twice its maxInFlight. Those past it
 * wait in memory and start the moment one of its requests ends in a 2xx, so a
 * busy endpoint's connections do not sit idle until the next claim; an
 * endpoint that does not answer gets none ahead, and one that fails gets its
 * waiting claims back in the store (its breaker or a 410 then decides). Requests
 * open at once stay within maxInFlight (the engine's gate); while another
 * instance holds some of its leases, the room is maxInFlight as ever.
 */
export interface ClaimAhead {
  readonly subscriptionIds: ReadonlyArray<string>
  readonly held: ReadonlyArray<number>
}

export interface ClaimOptions {
  readonly lane: Lane
  /** Only these deliveries (the first attempt of new ones); otherwise any that are due. */
  readonly ids?: ReadonlyArray<string>
  readonly limit: number
  /** The claimed payloads together stay within this many bytes (at least one is always claimed). */
  readonly maxBytes?: number
  /** How long the claim holds unless renewed; past it, the sweeper hands the delivery out again. */
  readonly leaseSeconds: number
  /** Who holds the claim (an instance id): only the holder renews or releases it. */
  readonly owner?: string
  /**
   * Webhook deliveries whose attempts this instance has finished but not yet
   * recorded: their leases are still held, their connections are not, so their
   * room may be claimed again. Only those still leased count (one whose result
   * was recorded meanwhile has given its room back already).
   */
  readonly finished?: ReadonlyArray<string>
  /** Given: claim ahead (see ClaimAhead). */
  readonly ahead?: ClaimAhead
}

/** One attempt made, and the state it moves its delivery to. */
export interface AttemptResult {
  readonly deliveryId: string
  /** Set for a webhook delivery… */
  readonly subscriptionId: string | null
  /** …or, for a connector run, what goes into its sync-log row. */
  readonly connector: { readonly configId: string; readonly entityType: string; readonly recordCount: number } | null
  readonly storeId: string
  readonly eventType: string
  /** The attempt just made (the claimed row's attempt_number + 1). */
  readonly attemptNumber: number
  /** The cycle's attempt count after this one (usually the claimed cycle_attempts + 1; unchanged when it did not count). */
  readonly cycleAttempts: number
  readonly startedAt: Date
  readonly durationMs: number
  readonly httpStatus: number | null
  readonly responseBody: string | null
  readonly error: string | null
  readonly status: Exclude<DeliveryStatus, "PENDING">
  /** Milliseconds until the next attempt when `FAILED`. */
  readonly retryInMs: number | null
  /** Why it was dead-lettered, for `webhook.dead_lettered`. */
  readonly reason: string | null
}

/**
 * An attempt that could not be made because of an outage on our side (the
 * secret store, the database): the claim is let go of and the delivery waits
 * `retryInMs`, its attempt count unchanged — the receiver's retries are not spent.
 */
export interface Postponement {
  readonly deliveryId: string
  /** The claimed row's attempt_number (unchanged). */
  readonly attemptNumber: number
  readonly retryInMs: number
  readonly reason: string
}

export type Outcome =
  | { readonly _tag: "Attempted"; readonly result: AttemptResult }
  | { readonly _tag: "Postponed"; readonly postponement: Postponement }

/** A message for Kafka, written in the same transaction as the change it announces. */
export interface OutboxMessage {
  readonly topic: string
  readonly key: string | null
  readonly value: string
}

export interface RelayedMessage extends OutboxMessage {
  readonly id: string
  readonly bytes: number
}

export interface RelayLimits {
  readonly maxMessages: number
  /** The messages of one round together stay within this many bytes (one oversized message is set aside). */
  readonly maxBatchBytes: number
  /** A message larger than this can never be published: it is set aside without trying. */
  readonly maxMessageBytes: number
}

/** Messages of a relay round that can never be published, and why. */
export interface RelayVerdict {
  readonly setAside: ReadonlyArray<{ readonly id: string; readonly reason: string }>
}

/** What a relay round did: messages taken off the outbox (published or set aside), and those set aside. */
export interface RelayRound extends RelayVerdict {
  readonly taken: number
  /** The round was cut short (by the message count or bytes): more may be waiting. */
  readonly more: boolean
}

export interface NewDelivery {
  readonly deliveryId: string
  readonly lane: Lane
}

/**
 * Room the webhook lane gives a fan-out to claim its new deliveries as they
 * are inserted (leased to `owner` in the same statement, no claim round trip):
 * at most `limit` of them, within `maxBytes` (the first always fits), and no
 * more per subscription than its in-flight limit leaves. Subscriptions whose
 * breaker is open are never claimed this way (their probe goes out alone).
 */
export interface IntakeClaim {
  readonly limit: number
  readonly maxBytes: number
  readonly leaseSeconds: number
  readonly owner: string
  /** This instance's attempts done but not yet recorded: their room is free (see ClaimOptions.finished). */
  readonly finished?: ReadonlyArray<string>
  /** Given: claim ahead (see ClaimAhead). */
  readonly ahead?: ClaimAhead
}

export interface FanOutResult {
  /** Every delivery created, the claimed ones included. */
  readonly created: ReadonlyArray<NewDelivery>
  /** Those of them claimed as they were inserted (given an IntakeClaim), ready to attempt. */
  readonly claimed: ReadonlyArray<ClaimedDelivery>
  /** Per event (same order): whether at least one active subscription or config matched it. */
  readonly matched: ReadonlyArray<boolean>
}

/** A consumed message that was not taken in, and why (never its content). */
export interface QuarantineEntry {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly reason: string
  readonly detail: string
  readonly sizeBytes: number
  readonly storeId: string | null
  readonly eventId: string | null
}

export interface QuarantinedEvent extends QuarantineEntry {
  readonly id: string
  readonly quarantinedAt: Date
}

export interface SetAsideMessage {
  readonly id: string
  readonly topic: string
  readonly key: string | null
  readonly sizeBytes: number
  readonly reason: string
  readonly createdAt: Date
  readonly setAsideAt: Date
}

/** A webhook subscription the engine switches off, and why. */
export interface DisableRequest {
  readonly subscriptionId: string
  readonly reason: string
}

export interface DisabledSubscription extends DisableRequest {
  readonly storeId: string
}

/** An active endpoint that has failed without a success for longer than its policy allows. */
export interface FailingEndpoint {
  readonly subscriptionId: string
  readonly storeId: string
  readonly failingSince: Date
}

/** The webhook backlog for the metrics (see `webhookBacklog`). */
export interface WebhookBacklog {
  /** Seconds the oldest waiting delivery has waited (0: nothing waits). */
  readonly oldestAgeSeconds: number
  /** The endpoints waiting longest, oldest first. */
  readonly oldestBySubscription: ReadonlyArray<{ readonly subscriptionId: string; readonly ageSeconds: number }>
  readonly endpointsByState: Readonly<Record<"healthy" | "failing" | "paused" | "disabled", number>>
}

/** What a round of table upkeep did (see `tableUpkeep`). */
export interface TableUpkeep {
  /** The server's autovacuum is on: nothing was done. */
  readonly serverDoesIt: boolean
  readonly vacuumed: ReadonlyArray<string>
  readonly analyzed: ReadonlyArray<string>
}

/** An endpoint that answered 410 Gone to a delivery: switched off with its result, and announced so. */
export interface GoneEndpoint {
  readonly subscriptionId: string
  /** The delivery whose attempt got the 410 (only a recorded result switches the endpoint off). */
  readonly deliveryId: string
  readonly reason: string
  readonly announcement: OutboxMessage
}

/** What is written with a batch of webhook results (see `recordWebhookAttempts`). */
export interface WebhookAttemptsRecording {
  readonly announce: (result: AttemptResult) => ReadonlyArray<OutboxMessage>
  readonly tallies: ReadonlyArray<EndpointTally>
  readonly gone: ReadonlyArray<GoneEndpoint>
  readonly policy: BreakerPolicy
}

/** What a batch of attempts changed about endpoints. */
export interface EndpointChanges {
  /** Switched off by this write (a 410 Gone), those that were still on. */
  readonly disabled: ReadonlyArray<DisabledSubscription>
  readonly failing: ReadonlyArray<FailingEndpoint>
  readonly breakers: ReadonlyArray<{
    readonly subscriptionId: string
    readonly storeId: string
    readonly change: "opened" | "closed"
    readonly consecutiveFailures: number
  }>
}

export interface DeliveryStoreShape {
  /**
   * One delivery per matching active webhook subscription and connector
   * config of each event's store, for a whole batch in one statement; a
   * re-consumed event creates nothing new. Given `claim`, webhook deliveries
   * that fit its room are inserted claimed (see IntakeClaim).
   */
  readonly createForEvents: (
    events: ReadonlyArray<EventEnvelope>,
    claim?: IntakeClaim
  ) => Effect.Effect<FanOutResult, PersistenceError>
  /** Claims due deliveries of one lane (`FOR UPDATE SKIP LOCKED` plus a lease). */
  readonly claim: (options: ClaimOptions) => Effect.Effect<ReadonlyArray<ClaimedDelivery>, PersistenceError>
  /**
   * After a claim that took nothing: whether deliveries of the lane are due all
   * the same (waiting for room, or taken from under it), so that the room its
   * attempts free is worth claiming at once; with `ids`, whether any of those
   * is due and not claimed (left behind by a claim of them).
   */
  readonly anyDue: (lane: Lane, ids?: ReadonlyArray<string>) => Effect.Effect<boolean, PersistenceError>
  /** Extends the leases `owner` still holds on these deliveries. */
  readonly renewLeases: (ids: ReadonlyArray<string>, owner: string, leaseSeconds: number) => Effect.Effect<number, PersistenceError>
  /** Lets go of claims never attempted (shutdown): they are due again at once, for anyone. */
  readonly releaseLeases: (ids: ReadonlyArray<string>, owner: string) => Effect.Effect<number, PersistenceError>
  /** Leases whose holder died (they expired): the deliveries wait again for the next claim. */
  readonly releaseExpiredLeases: Effect.Effect<number, PersistenceError>
  /**
   * Records attempts and postponements in one transaction. `alongside` runs in
   * the same transaction with the results that were recorded (a result whose
   * delivery moved on meanwhile — re-triggered, or recorded by another worker
   * after its lease expired — is dropped). Returns how many results were recorded.
   */
  readonly record: (
    outcomes: ReadonlyArray<Outcome>,
    alongside: (recorded: ReadonlyArray<AttemptResult>) => Effect.Effect<void, PersistenceError>
  ) => Effect.Effect<number, PersistenceError>
  /**
   * Webhook attempt results in one statement (atomic without a transaction):
   * as `record` does for them, with their announcements (`announce`), their
   * endpoints' health (`tallies`, under `policy`) and the endpoints that
   * answered 410 Gone switched off and announced (`gone`), so a gone endpoint's
   * delivery is never claimed again meanwhile. Answers the results recorded and
   * what changed for their endpoints (switched off, breakers, failing too long).
   */
  readonly recordWebhookAttempts: (
    results: ReadonlyArray<AttemptResult>,
    options: WebhookAttemptsRecording
  ) => Effect.Effect<{ readonly recorded: ReadonlyArray<AttemptResult>; readonly changes: EndpointChanges }, PersistenceError>
  /** Switches webhook subscriptions off and announces each one that was still on, in one transaction. */
  readonly disableAnnounced: (
    requests: ReadonlyArray<DisableRequest>,
    announce: (disabled: DisabledSubscription) => OutboxMessage
  ) => Effect.Effect<ReadonlyArray<DisabledSubscription>, PersistenceError>
  /** The webhook backlog's oldest ages (overall and the `top` endpoints) and the endpoints by state. */
  readonly webhookBacklog: (top: number) => Effect.Effect<WebhookBacklog, PersistenceError>
  /** Adds messages to the Kafka outbox (inside the caller's transaction, when there is one). */
  readonly enqueueOutbox: (messages: ReadonlyArray<OutboxMessage>) => Effect.Effect<void, PersistenceError>
  /**
   * One relay round: takes waiting outbox messages (locked, so instances share
   * the work) within `limits`, hands them to `send`, then deletes what was
   * sent and moves what `send` set aside to `kafka_outbox_set_aside`, in the
   * same transaction. A failing `send` leaves them all waiting. Messages over
   * `limits.maxMessageBytes` are set aside without being sent.
   */
  readonly relayOutbox: <E>(
    limits: RelayLimits,
    send: (messages: ReadonlyArray<RelayedMessage>) => Effect.Effect<RelayVerdict, E>
  ) => Effect.Effect<RelayRound, PersistenceError | E>
  readonly quarantine: (entries: ReadonlyArray<QuarantineEntry>) => Effect.Effect<void, PersistenceError>
  readonly listQuarantined: (options: { readonly storeId?: string | undefined; readonly limit: number }) => Effect.Effect<ReadonlyArray<QuarantinedEvent>, PersistenceError>
  readonly listSetAside: (options: { readonly limit: number }) => Effect.Effect<ReadonlyArray<SetAsideMessage>, PersistenceError>
  /** Vacuums and analyzes the engine's tables that need it, when the server's autovacuum is off. */
  readonly tableUpkeep: Effect.Effect<TableUpkeep, PersistenceError>
}

export class DeliveryStore extends Context.Tag("integration-service/DeliveryStore")<DeliveryStore, DeliveryStoreShape>() {}
