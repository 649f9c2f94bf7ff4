import { HttpApiBuilder, HttpMiddleware } from "@effect/platform"
import { DateTime, Effect, Metric } from "effect"
import { DeliveryStore } from "../../services/DeliveryStore.ts"
import type { PersistenceError } from "../../services/Persistence.ts"
import { Api } from "../../domain/api/Api.ts"
import { ServiceUnavailable } from "../../domain/api/errors.ts"
import { QuarantinedEvent, ServiceStatus, SetAsideMessage } from "../../domain/api/OpsApi.ts"
import { OpsStatus } from "../../services/OpsStatus.ts"
import type { LaneBacklog } from "../../services/OpsStatus.ts"
import { WebhookGauges } from "../webhooks/WebhookGauges.ts"
import { makeProbes } from "./probes.ts"
import { renderPrometheus } from "./prometheus.ts"

const databaseDown = (error: PersistenceError) => ServiceUnavailable.of(`the database is unavailable (${error.detail}); try again`)

export const OpsHandlers = HttpApiBuilder.group(Api, "ops", (handlers) =>
  Effect.gen(function*() {
    const store = yield* DeliveryStore
    const opsStatus = yield* OpsStatus
    const probes = yield* makeProbes
    const lane = (b: LaneBacklog) => ({ ...b, oldestDueAt: b.oldestDueAt === null ? null : DateTime.unsafeMake(b.oldestDueAt) })
    return handlers
      .handle("status", () =>
        Effect.all([probes.checks, probes.secretStore, Effect.option(opsStatus.backlog)], { concurrency: "unbounded" }).pipe(
          Effect.map(([checks, secretStore, backlog]) =>
            ServiceStatus.make({
              mode: probes.mode,
              checks: { ...checks, secretStore },
              backlog: backlog._tag === "None"
                ? null
                : { webhooks: lane(backlog.value.webhooks), connectors: lane(backlog.value.connectors) }
            })
          )
        ))
      .handle("quarantine", ({ urlParams }) =>
        store.listQuarantined({ storeId: urlParams.storeId, limit: urlParams.limit ?? 100 }).pipe(
          Effect.map((rows) => ({
            items: rows.map((r) => QuarantinedEvent.make({ ...r, quarantinedAt: DateTime.unsafeMake(r.quarantinedAt) }))
          })),
          Effect.mapError(databaseDown)
        ))
      .handle("outboxSetAside", ({ urlParams }) =>
        store.listSetAside({ limit: urlParams.limit ?? 100 }).pipe(
          Effect.map((rows) => ({
            items: rows.map((r) =>
              SetAsideMessage.make({ ...r, createdAt: DateTime.unsafeMake(r.createdAt), setAsideAt: DateTime.unsafeMake(r.setAsideAt) })
            )
          })),
          Effect.mapError(databaseDown)
        ))
  }))

export const MetricsHandlers = HttpApiBuilder.group(Api, "metrics", (handlers) =>
  Effect.map(WebhookGauges, (gauges) =>
    // Scraped every few seconds: not worth a log line each.
    handlers.handle("metrics", () =>
      HttpMiddleware.withLoggerDisabled(
        Effect.zipWith(Metric.snapshot, gauges.samples, (pairs, samples) => renderPrometheus(pairs, samples))
      ))
  ))
