import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer } from "effect"
import { AppConfig } from "../services/AppConfig.ts"

export interface DbLiveOptions {
  readonly maxConnections?: number
}

/** PostgreSQL through `@effect/sql-pg` (a `pg` pool). */
export const makeDbLive = (url: Parameters<typeof PgClient.layer>[0]["url"], options: DbLiveOptions = {}) =>
  PgClient.layer({
    url,
    maxConnections: options.maxConnections ?? 10,
    connectTimeout: Duration.seconds(10),
    idleTimeout: Duration.seconds(30),
    applicationName: "integration-service"
  })

export const DbLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => makeDbLive(config.databaseUrl))
)
