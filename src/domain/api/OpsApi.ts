import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { StoreId } from "../EventEnvelope.ts"
import { Items } from "../records.ts"
import { AdminAuth } from "./auth.ts"
import { guardedBy } from "./groups.ts"
import { Check, Checks } from "./HealthApi.ts"

export class QuarantinedEvent extends Schema.Class<QuarantinedEvent>("QuarantinedEvent")({
  id: Schema.String,
  topic: Schema.String,
  partition: Schema.Int,
  offset: Schema.String,
  reason: Schema.String,
  detail: Schema.String,
  sizeBytes: Schema.Int,
  storeId: Schema.NullOr(Schema.String),
  eventId: Schema.NullOr(Schema.String),
  quarantinedAt: Schema.DateTimeUtc
}) {}

export class SetAsideMessage extends Schema.Class<SetAsideMessage>("SetAsideMessage")({
  id: Schema.String,
  topic: Schema.String,
  key: Schema.NullOr(Schema.String),
  sizeBytes: Schema.Int,
  reason: Schema.String,
  createdAt: Schema.DateTimeUtc,
  setAsideAt: Schema.DateTimeUtc
}) {}

export const LaneBacklog = Schema.Struct({
  pending: Schema.Int,
  failed: Schema.Int,
  /** The earliest retry due now or overdue; null when nothing is due. */
  oldestDueAt: Schema.NullOr(Schema.DateTimeUtc),
  deadLetteredLast24h: Schema.Int
})

/** `GET /ops/status`: answered whatever is down (a part that is down says so). */
export class ServiceStatus extends Schema.Class<ServiceStatus>("ServiceStatus")({
  mode: Schema.Literal("live", "dev"),
  checks: Schema.Struct({
    ...Checks.fields,
    /** Vault in live mode, dev mode's file-backed store. */
    secretStore: Schema.Struct({ kind: Schema.Literal("vault", "files"), state: Check })
  }),
  /** Across every store; null while the database is unreachable. */
  backlog: Schema.NullOr(Schema.Struct({ webhooks: LaneBacklog, connectors: LaneBacklog }))
}) {}

const Limit = Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)))

/** What the service set aside so that it could go on: for operators (the admin token). */
export class OpsApi extends HttpApiGroup.make("ops")
  .add(
    HttpApiEndpoint.get("quarantine", "/ops/quarantine")
      .setUrlParams(Schema.Struct({ storeId: Schema.optional(StoreId), limit: Limit }))
      .addSuccess(Items(QuarantinedEvent))
      .annotate(OpenApi.Summary, "Consumed messages that were not taken in (newest first): where they came from and why")
  )
  .add(
    HttpApiEndpoint.get("status", "/ops/status")
      .addSuccess(ServiceStatus)
      .annotate(OpenApi.Summary, "Database, Kafka and secret store state, the backlog, the oldest due retry, dead letters in 24 h")
  )
  .add(
    HttpApiEndpoint.get("outboxSetAside", "/ops/outbox/set-aside")
      .setUrlParams(Schema.Struct({ limit: Limit }))
      .addSuccess(Items(SetAsideMessage))
      .annotate(OpenApi.Summary, "Outbox messages Kafka can never accept (too large, refused), kept whole in kafka_outbox_set_aside")
  )
  .pipe(guardedBy(AdminAuth, "Operations"))
{}

/** Prometheus scrapes this: every counter, gauge and histogram of the process. */
export class MetricsApi extends HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4; charset=utf-8" }))
      .annotate(OpenApi.Summary, "Metrics in the Prometheus text format")
  )
{}
