import { Schema } from "effect"
import { StoreId } from "../EventEnvelope.ts"
import { Page, RecordId, StoreRecord, Timestamps } from "../records.ts"
import { AttemptedDetail, DeliveryStatus } from "../webhooks/models.ts"

export const ConfigId = RecordId("ConfigId")
export type ConfigId = typeof ConfigId.Type

export class ConnectorConfig extends Schema.Class<ConnectorConfig>("ConnectorConfig")({
  ...StoreRecord(ConfigId),
  connectorType: Schema.String,
  displayName: Schema.String,
  isActive: Schema.Boolean,
  eventSubscriptions: Schema.Array(Schema.String),
  settings: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  /** Whether credentials were stored (never the credentials). */
  hasCredentials: Schema.Boolean,
  ...Timestamps
}) {}

const DisplayName = Schema.Trim.pipe(Schema.minLength(1, { message: () => "must not be empty" }), Schema.maxLength(200))

export const CreateConnectorConfig = Schema.Struct({
  connectorType: Schema.String,
  displayName: DisplayName,
  eventSubscriptions: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  settings: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { default: () => ({}) }),
  isActive: Schema.optionalWith(Schema.Boolean, { default: () => true })
})

export const UpdateConnectorConfig = Schema.Struct({
  displayName: Schema.optional(DisplayName),
  eventSubscriptions: Schema.optional(Schema.Array(Schema.String)),
  settings: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  isActive: Schema.optional(Schema.Boolean)
})

/** PUT …/connectors/{id}/credentials: stored in Vault, never returned. */
export const ConnectorCredentials = Schema.Struct({
  apiKey: Schema.String.pipe(Schema.minLength(1)),
  apiSecret: Schema.String.pipe(Schema.minLength(1)),
  refreshToken: Schema.optional(Schema.String.pipe(Schema.minLength(1)))
})

export class SyncLogEntry extends Schema.Class<SyncLogEntry>("SyncLogEntry")({
  id: Schema.UUID,
  configId: ConfigId,
  direction: Schema.Literal("INBOUND", "OUTBOUND"),
  entityType: Schema.String,
  recordCount: Schema.Int,
  status: Schema.Literal("RUNNING", "SUCCEEDED", "FAILED"),
  errorSummary: Schema.NullOr(Schema.String),
  startedAt: Schema.DateTimeUtc,
  finishedAt: Schema.NullOr(Schema.DateTimeUtc)
}) {}

/** Kafka topic of inbound records (SPEC: new or updated marketplace orders). */
export const importedTopic = "connector.order.imported"

/**
 * One connector run of a platform event (outbound): retried on the webhook
 * retry table, dead-lettered when a marketplace refuses it for good.
 */
export class ConnectorRun extends Schema.Class<ConnectorRun>("ConnectorRun")({
  id: Schema.UUID,
  configId: ConfigId,
  storeId: StoreId,
  eventType: Schema.String,
  eventId: Schema.UUID,
  status: DeliveryStatus,
  attemptNumber: Schema.Int,
  nextRetryAt: Schema.NullOr(Schema.DateTimeUtc),
  /** When it succeeded. */
  finishedAt: Schema.NullOr(Schema.DateTimeUtc),
  ...Timestamps
}) {}

export class ConnectorRunDetail extends ConnectorRun.extend<ConnectorRunDetail>("ConnectorRunDetail")(
  AttemptedDetail
) {}

export const ConnectorRunPage = Page(ConnectorRun)

export const ConnectorRunFilters = Schema.Struct({
  status: Schema.optional(DeliveryStatus),
  eventType: Schema.optional(Schema.String),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 200))),
  cursor: Schema.optional(Schema.String)
})

/** Bulk re-trigger of a config's failed or dead-lettered runs. */
export const BulkRunRetry = Schema.Struct({
  status: Schema.optionalWith(Schema.Literal("DEAD_LETTERED", "FAILED"), { default: () => "DEAD_LETTERED" as const }),
  since: Schema.optional(Schema.DateTimeUtc)
})
