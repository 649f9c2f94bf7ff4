import { PgClient } from "@effect/sql-pg"
import { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Layer, Redacted } from "effect"
import Pg from "pg"
import { AppConfig } from "../services/AppConfig.ts"
import { PreparingClient } from "./db/preparedStatements.ts"

export interface DbLiveOptions {
  readonly maxConnections?: number
  /** Default true (see AppConfigShape.databasePreparedStatements). */
  readonly preparedStatements?: boolean
}

const connectTimeout = Duration.seconds(10)
const applicationName = "integration-service"

/** Ends the pool; one that cannot end cleanly (already ended, a socket gone) is left to the process. */
const closed = (made: Pg.Pool) => Effect.tryPromise(() => made.end()).pipe(Effect.ignore)

/**
 * The pool, its connections made by PreparingClient (statements run again and
 * again are prepared) unless told otherwise, checked with one query before the service goes on, as
 * `@effect/sql-pg`'s own pool is: an unreachable database fails start-up
 * within the connect timeout.
 */
const pool = (url: Redacted.Redacted<string>, options: DbLiveOptions) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const made = new Pg.Pool({
        connectionString: Redacted.value(url),
        Client: options.preparedStatements === false ? Pg.Client : PreparingClient,
        max: options.maxConnections ?? 10,
        connectionTimeoutMillis: Duration.toMillis(connectTimeout),
        idleTimeoutMillis: 30_000,
        application_name: applicationName
      })
      // An idle connection's error (the server restarted) is the next query's to report.
      made.on("error", () => {})
      yield* Effect.tryPromise({
        try: () => made.query("SELECT 1"),
        catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
      }).pipe(
        Effect.timeoutFail({
          duration: connectTimeout,
          onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
        }),
        Effect.tapError(() => closed(made))
      )
      return made
    }),
    (made) => closed(made).pipe(Effect.interruptible, Effect.timeoutOption(1000))
  )

/** PostgreSQL through `@effect/sql-pg` on a `pg` pool of our own. */
export const makeDbLive = (url: Redacted.Redacted<string>, options: DbLiveOptions = {}) =>
  PgClient.layerFromPool({ acquire: pool(url, options), applicationName })

export const DbLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    makeDbLive(config.databaseUrl, { preparedStatements: config.databasePreparedStatements ?? true }))
)
