import { Schema } from "effect"
import { StoreId } from "../EventEnvelope.ts"
import { importedTopic } from "./models.ts"

/**
 * `connector.order.imported` as published to Kafka: the SPEC envelope around
 * one marketplace order change. `order` is the marketplace's own payload made
 * storable, or null with the reason in `orderOmitted` when it could not be
 * carried (too deep, too large).
 */
export const ConnectorOrderImported = Schema.Struct({
  eventId: Schema.UUID,
  eventType: Schema.Literal(importedTopic),
  storeId: StoreId,
  occurredAt: Schema.String,
  data: Schema.Struct({
    configId: Schema.String,
    connectorType: Schema.String,
    entityType: Schema.String,
    externalOrderId: Schema.String,
    status: Schema.String,
    updatedAt: Schema.String,
    order: Schema.Unknown,
    orderOmitted: Schema.optional(Schema.String)
  })
})
export type ConnectorOrderImported = typeof ConnectorOrderImported.Type

/** The Kafka message value of a `connector.order.imported` event. */
export const ConnectorOrderImportedJson = Schema.parseJson(ConnectorOrderImported)
