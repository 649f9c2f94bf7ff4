import { Schema } from "effect"

/** `order.placed`, `inventory.updated`, …: lower-case dot-separated words. */
export const EventType = Schema.String.pipe(
  Schema.pattern(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/),
  Schema.maxLength(200),
  Schema.annotations({ identifier: "EventType", description: "a dot-separated event type, e.g. order.placed" })
)

export const StoreId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/),
  Schema.annotations({ identifier: "StoreId", description: "the platform's store id" })
)

/**
 * The platform's domain event on Kafka (SPEC.md "Kafka"). `data` is kept as
 * it came: the service forwards it, it does not interpret it.
 */
export class EventEnvelope extends Schema.Class<EventEnvelope>("EventEnvelope")({
  eventId: Schema.UUID,
  eventType: EventType,
  storeId: StoreId,
  occurredAt: Schema.String.pipe(
    Schema.filter((s) => !Number.isNaN(Date.parse(s)) || "must be an ISO-8601 date-time"),
    Schema.annotations({ description: "ISO-8601 date-time" })
  ),
  data: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

/** Kafka message value (bytes of JSON) → envelope. */
export const EventEnvelopeFromJson = Schema.parseJson(EventEnvelope)
