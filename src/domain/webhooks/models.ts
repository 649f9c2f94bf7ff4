import { Schema } from "effect"
import { EventType, StoreId } from "../EventEnvelope.ts"
import { Page, RecordId, StoreRecord, Timestamps } from "../records.ts"

export const SubscriptionId = RecordId("SubscriptionId")
export type SubscriptionId = typeof SubscriptionId.Type
export const DeliveryId = RecordId("DeliveryId")
export type DeliveryId = typeof DeliveryId.Type

/** An event type, or `*` for every event. */
export const EventSelector = Schema.Union(Schema.Literal("*"), EventType)

export const DeliveryStatus = Schema.Literal("PENDING", "DELIVERED", "FAILED", "DEAD_LETTERED")
export type DeliveryStatus = typeof DeliveryStatus.Type

const Name = Schema.Trim.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(200)
)
const TargetUrl = Schema.String.pipe(
  Schema.maxLength(2048),
  Schema.annotations({ description: "https URL the events are POSTed to" })
)
/** Attempts of one subscription in flight at once (default 10). */
export const defaultMaxInFlight = 10
const MaxInFlight = Schema.Int.pipe(
  Schema.between(1, 1000),
  Schema.annotations({ description: "Attempts of this subscription in flight at once (default 10)" })
)

const Events = Schema.Array(EventSelector).pipe(
  Schema.minItems(1, { message: () => "must name at least one event type (or \"*\")" }),
  Schema.maxItems(100)
)

/** An endpoint's health as the engine sees it (updated by every recorded attempt). */
export const SubscriptionHealth = Schema.Struct({
  /** disabled: switched off; paused: its breaker is open; failing: failed last time; healthy otherwise. */
  state: Schema.Literal("healthy", "failing", "paused", "disabled"),
  consecutiveFailures: Schema.Int,
  lastSuccessAt: Schema.NullOr(Schema.DateTimeUtc),
  lastFailureAt: Schema.NullOr(Schema.DateTimeUtc),
  /** Deliveries waiting (PENDING or FAILED). */
  backlog: Schema.Int
})

export class Subscription extends Schema.Class<Subscription>("Subscription")({
  ...StoreRecord(SubscriptionId),
  name: Schema.String,
  targetUrl: Schema.String,
  events: Schema.Array(Schema.String),
  isActive: Schema.Boolean,
  // Added by issue 12; optional when decoding, so clients read answers of servers without them too.
  /** Why the engine switched it off (410 Gone, failing for too long); null when on, or switched off by an admin. */
  disabledReason: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  maxInFlight: Schema.optionalWith(Schema.Int, { default: () => defaultMaxInFlight }),
  health: Schema.optional(SubscriptionHealth),
  ...Timestamps
}) {}

export const CreateSubscription = Schema.Struct({
  name: Name,
  targetUrl: TargetUrl,
  events: Events,
  isActive: Schema.optional(Schema.Boolean),
  maxInFlight: Schema.optional(MaxInFlight)
})

export const UpdateSubscription = Schema.Struct({
  name: Schema.optional(Name),
  targetUrl: Schema.optional(TargetUrl),
  events: Schema.optional(Events),
  isActive: Schema.optional(Schema.Boolean),
  maxInFlight: Schema.optional(MaxInFlight)
})

/** How long the previous secret keeps signing after a rotation: a day unless said otherwise, at most 30 days. */
export const defaultRotationOverlapSeconds = 86_400

const maxOverlapSeconds = 30 * 86_400
const overlapDescription = "Seconds the previous secret keeps signing beside the new one (default 86400; 0 ends it at once)"

/** `POST …/secret/rotate` takes this body, or none at all. */
export const RotateSecret = Schema.Struct({
  overlapSeconds: Schema.optional(
    Schema.Int.pipe(Schema.between(0, maxOverlapSeconds)).annotations({ description: overlapDescription })
  )
})

/**
 * What the body decodes from: no body at all (which reads as null) is `{}`.
 * Not a union with null, so a bad body's errors name its fields only; the
 * OpenAPI document shows the object.
 */
export const RotateSecretBody = Schema.Unknown.annotations({
  jsonSchema: {
    type: "object",
    properties: { overlapSeconds: { type: "integer", minimum: 0, maximum: maxOverlapSeconds, description: overlapDescription } },
    additionalProperties: false
  }
}).pipe(
  Schema.transform(Schema.Unknown, { strict: true, decode: (body) => body ?? {}, encode: (body) => body })
)

/** Create and rotate answer with the signing secret: the only times it is shown. */
export class SubscriptionWithSecret extends Subscription.extend<SubscriptionWithSecret>("SubscriptionWithSecret")({
  signingSecret: Schema.String
}) {}

export class Delivery extends Schema.Class<Delivery>("Delivery")({
  id: DeliveryId,
  subscriptionId: SubscriptionId,
  storeId: StoreId,
  eventType: Schema.String,
  eventId: Schema.UUID,
  status: DeliveryStatus,
  attemptNumber: Schema.Int,
  httpStatus: Schema.NullOr(Schema.Int),
  responseBody: Schema.NullOr(Schema.String),
  nextRetryAt: Schema.NullOr(Schema.DateTimeUtc),
  deliveredAt: Schema.NullOr(Schema.DateTimeUtc),
  ...Timestamps
}) {}

export class DeliveryAttempt extends Schema.Class<DeliveryAttempt>("DeliveryAttempt")({
  attemptNumber: Schema.Int,
  startedAt: Schema.DateTimeUtc,
  durationMs: Schema.Int,
  httpStatus: Schema.NullOr(Schema.Int),
  responseBody: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
}) {}

/** What a delivery's or a connector run's detail adds to it: the payload sent and every attempt. */
export const AttemptedDetail = {
  payload: Schema.Unknown,
  attempts: Schema.Array(DeliveryAttempt)
}

export class DeliveryDetail extends Delivery.extend<DeliveryDetail>("DeliveryDetail")(AttemptedDetail) {}

export const DeliveryPage = Page(Delivery)

/**
 * A query's instant: ISO-8601 with its zone, nothing before or after it (the
 * date parser alone would take "…Z" followed by anything).
 */
const QueryInstant = Schema.compose(
  Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, {
    message: () => "must be an ISO-8601 date-time with its zone, e.g. 2026-03-01T10:00:00Z"
  })),
  Schema.DateTimeUtc
)

export const DeliveryFilters = Schema.Struct({
  status: Schema.optional(DeliveryStatus),
  subscriptionId: Schema.optional(SubscriptionId),
  // A delivery's event type is always a well-formed one: anything else can match nothing.
  eventType: Schema.optional(EventType),
  /** Created at or after this instant. */
  since: Schema.optional(QueryInstant),
  /** Created before this instant. */
  until: Schema.optional(QueryInstant),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 200))),
  cursor: Schema.optional(Schema.String)
})

/** Bulk re-trigger: every matching failed or dead-lettered delivery of the store. */
export const BulkRetry = Schema.Struct({
  status: Schema.optionalWith(Schema.Literal("DEAD_LETTERED", "FAILED"), { default: () => "DEAD_LETTERED" as const }),
  since: Schema.optional(Schema.DateTimeUtc),
  subscriptionId: Schema.optional(SubscriptionId),
  /** Only count the matching deliveries (so an operator confirms the number first); re-trigger none. */
  dryRun: Schema.optional(Schema.Boolean)
})

/** A bulk re-trigger's answer: how many were re-triggered, or (dry run) how many would be. */
export const BulkRetryResult = Schema.Struct({
  retried: Schema.Int,
  matching: Schema.optional(Schema.Int)
})

/**
 * `POST …/webhooks/{id}/recover`: every delivery of the subscription created
 * since then that did not succeed is queued again (a new cycle, marked as a
 * replay); the subscription is switched on again and its breaker closed.
 */
export const RecoverDeliveries = Schema.Struct({
  since: Schema.DateTimeUtc.annotations({ description: "ISO-8601 time: deliveries created at or after it are queued again" })
})

export const Recovered = Schema.Struct({ recovered: Schema.Int })

/** GET …/deliveries/stats: attempts per minute by outcome over the last `minutes`, and what is waiting. */
export const DeliveryStats = Schema.Struct({
  since: Schema.DateTimeUtc,
  perMinute: Schema.Array(Schema.Struct({
    minute: Schema.DateTimeUtc,
    delivered: Schema.Int,
    failed: Schema.Int,
    deadLettered: Schema.Int
  })),
  backlog: Schema.Struct({ pending: Schema.Int, failed: Schema.Int, oldestDueAt: Schema.NullOr(Schema.DateTimeUtc) }),
  deadLetteredLast24h: Schema.Int
})

export const DeliveryStatsParams = Schema.Struct({
  minutes: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1440))),
  subscriptionId: Schema.optional(SubscriptionId)
})
