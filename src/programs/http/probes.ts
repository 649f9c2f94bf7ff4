import { Effect } from "effect"
import { AppConfig } from "../../services/AppConfig.ts"
import { SqlClient } from "../../services/Db.ts"
import { Kafka } from "../../services/Kafka.ts"
import { Vault } from "../../services/Vault.ts"

/** A probe's answer: it answered within 2 s, or it did not. */
const check = <E, R>(probe: Effect.Effect<unknown, E, R>) =>
  probe.pipe(
    Effect.timeout("2 seconds"),
    Effect.as("ok" as const),
    Effect.catchAllCause(() => Effect.succeed("unavailable" as const))
  )

/** The dependencies' state, as `/readyz` and `/ops/status` show it (dev mode's bus is no Kafka). */
export const makeProbes = Effect.gen(function*() {
  const sql = yield* SqlClient
  const kafka = yield* Kafka
  const vault = yield* Vault
  const config = yield* AppConfig
  const dev = config.mode === "dev"
  const checks = Effect.all([check(sql`SELECT 1`), dev ? Effect.succeed("ok" as const) : check(kafka.ping)], {
    concurrency: 2
  }).pipe(
    Effect.map(([database, broker]) =>
      dev ? { database, eventBus: "in-process" as const } : { database, kafka: broker }
    )
  )
  // Reading the service's own secret is what start-up does too: nothing is shown of it.
  const secretStore = check(vault.read("integration-service")).pipe(
    Effect.map((state) => ({ kind: dev ? "files" as const : "vault" as const, state }))
  )
  return { mode: config.mode, checks, secretStore }
})
