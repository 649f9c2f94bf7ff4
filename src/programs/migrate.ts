import * as Migrator from "@effect/sql/Migrator"
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import { loader } from "../migrations/index.ts"

const table = "integration_service_migrations"
const migrator = Migrator.make({})({ loader, table })

/** An arbitrary constant naming "integration-service migrations" among advisory locks. */
const migrationLockKey = 7_305_112_201

/**
 * Applies the migrations not yet applied; returns those it ran. Several
 * instances may start at once: a transaction-scoped advisory lock lets one
 * migrate while the others wait, then find nothing left to do (the Migrator's
 * own lock does not cover the creation of its bookkeeping table).
 */
export const runMigrations = Effect.gen(function*() {
  const sql = yield* SqlClient
  return yield* sql.withTransaction(
    Effect.gen(function*() {
      yield* sql`SELECT pg_advisory_xact_lock(${migrationLockKey})`
      // The Migrator probes for its table with a query that fails when the table
      // is missing, which would abort this transaction: create it first (same shape).
      yield* sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
        migration_id integer primary key,
        created_at timestamp with time zone not null default now(),
        name text not null
      )`
      return yield* migrator
    })
  )
}).pipe(
  Effect.tap((applied) =>
    applied.length === 0
      ? Effect.logInfo("database schema is up to date")
      : Effect.logInfo("migrations applied").pipe(
        Effect.annotateLogs("migrations", applied.map(([id, name]) => `${id}_${name}`))
      )
  ),
  Effect.withSpan("migrations.run")
)

/** Runs the migrations while the layer graph is built, before anything serves. */
export const MigrationsLive = Layer.effectDiscard(runMigrations)
