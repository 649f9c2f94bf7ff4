import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Layer, Redacted } from "effect"
import { makeDbLive } from "../../src/layers/DbLive.ts"
import { runMigrations } from "../../src/programs/migrate.ts"
import { testDatabaseUrl } from "./context.ts"

/** This run's throwaway database, migrated (the migration is idempotent and serialized). */
export const TestDbLive = Layer.effectDiscard(runMigrations).pipe(
  Layer.provideMerge(makeDbLive(Redacted.make(testDatabaseUrl()), { maxConnections: 10 }))
)

/** A further empty database for the duration of a scope (for tests that need a blank schema). */
export const freshDatabase = Effect.gen(function*() {
  const sql = yield* SqlClient
  const name = `is_fresh_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
  yield* Effect.acquireRelease(
    sql.unsafe(`CREATE DATABASE "${name}"`),
    () => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).pipe(Effect.orDie)
  )
  const url = new URL(testDatabaseUrl())
  url.pathname = `/${name}`
  return Redacted.make(url.toString())
})
