import { HttpApiBuilder, HttpMiddleware } from "@effect/platform"
import { Effect } from "effect"
import { SqlClient } from "../../services/Db.ts"
import { Kafka } from "../../services/Kafka.ts"
import { Api } from "../../domain/api/Api.ts"
import { NotReady, Readiness } from "../../domain/api/HealthApi.ts"

const check = <E, R>(probe: Effect.Effect<unknown, E, R>) =>
  probe.pipe(
    Effect.timeout("2 seconds"),
    Effect.as("ok" as const),
    Effect.catchAllCause(() => Effect.succeed("unavailable" as const))
  )

export const HealthHandlers = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const kafka = yield* Kafka
    return handlers
      // Probes call these every few seconds: not worth a log line each.
      .handle("healthz", () => HttpMiddleware.withLoggerDisabled(Effect.succeed({ status: "ok" as const })))
      .handle("readyz", () =>
        HttpMiddleware.withLoggerDisabled(Effect.gen(function*() {
          const [database, broker] = yield* Effect.all([check(sql`SELECT 1`), check(kafka.ping)], {
            concurrency: 2
          })
          const checks = { database, kafka: broker }
          // Ready means "can serve": the gateway's /credentials/validate needs only the database,
          // and a Kafka outage pauses consuming and publishing by itself (nothing is lost).
          // Taking every pod out of the Service for it would take the gateway down with it.
          if (database === "ok") return new Readiness({ status: "ready", checks })
          return yield* Effect.fail(new NotReady({ error: "not_ready", message: "the database is unreachable", checks }))
        })))
  }))
