import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"

export const Check = Schema.Literal("ok", "unavailable")

/**
 * Live mode checks Kafka; dev mode has no Kafka but the in-process event bus,
 * named for what it is (`eventBus: "in-process"`, no `kafka`).
 */
export const Checks = Schema.Struct({
  database: Check,
  kafka: Schema.optional(Check),
  eventBus: Schema.optional(Schema.Literal("in-process"))
})

export class Readiness extends Schema.Class<Readiness>("Readiness")({
  status: Schema.Literal("ready"),
  checks: Checks
}) {}

export class NotReady extends Schema.Class<NotReady>("NotReady")(
  { error: Schema.Literal("not_ready"), message: Schema.String, checks: Checks },
  HttpApiSchema.annotations({ status: 503 })
) {}

export class HealthApi extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("healthz", "/healthz")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
      .annotate(OpenApi.Summary, "The process is up")
  )
  .add(
    HttpApiEndpoint.get("readyz", "/readyz")
      .addSuccess(Readiness)
      .addError(NotReady)
      .annotate(OpenApi.Summary, "Ready to serve: the database is reachable (Kafka's state is shown, and does not decide)")
  )
{}
