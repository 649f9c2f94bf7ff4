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

/** PostgreSQL at `url`, migrated: e.g. several apps sharing one `freshDatabase`. */
export const migratedDbLive = (url: Redacted.Redacted<string>) =>
  Layer.effectDiscard(runMigrations).pipe(Layer.provideMerge(makeDbLive(url, { maxConnections: 10 })))

/**
 * A database of its own for one test layer: created empty, migrated, dropped
 * when the layer closes. Test files run in parallel on this run's database, and
 * delivery workers claim every due delivery in the database they poll: a
 * TestApp whose deliveries must not be attempted by another file's workers
 * (which have their own in-memory Vault, so they can't sign them) uses this.
 */
export const IsolatedTestDbLive = Layer.unwrapScoped(Effect.map(freshDatabase, migratedDbLive)).pipe(
  Layer.provide(TestDbLive)
)
