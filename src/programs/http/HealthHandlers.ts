import { HttpApiBuilder, HttpMiddleware } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../../domain/api/Api.ts"
import { NotReady, Readiness } from "../../domain/api/HealthApi.ts"
import { makeProbes } from "./probes.ts"

export const HealthHandlers = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function*() {
    const probes = yield* makeProbes
    return handlers
      // Probes call these every few seconds: not worth a log line each.
      .handle("healthz", () => HttpMiddleware.withLoggerDisabled(Effect.succeed({ status: "ok" as const })))
      .handle("readyz", () =>
        HttpMiddleware.withLoggerDisabled(Effect.gen(function*() {
          const checks = yield* probes.checks
          // Ready means "can serve": the gateway's /credentials/validate needs only the database,
          // and a Kafka outage pauses consuming and publishing by itself (nothing is lost).
          // Taking every pod out of the Service for it would take the gateway down with it.
          if (checks.database === "ok") return new Readiness({ status: "ready", checks })
          return yield* Effect.fail(new NotReady({ error: "not_ready", message: "the database is unreachable", checks }))
        })))
  }))
