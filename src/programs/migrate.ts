import * as Migrator from "@effect/sql/Migrator"
import { Effect, Layer } from "effect"
import { loader } from "../migrations/index.ts"

/** Applies the migrations not yet applied; returns those it ran. */
export const runMigrations = Migrator.make({})({ loader, table: "integration_service_migrations" }).pipe(
  Effect.tap((applied) =>
    applied.length === 0
      ? Effect.logInfo("database schema is up to date")
      : Effect.logInfo("migrations applied").pipe(Effect.annotateLogs("migrations", applied.map(([id, name]) => `${id}_${name}`)))
  ),
  Effect.withSpan("migrations.run")
)

/** Runs the migrations while the layer graph is built, before anything serves. */
export const MigrationsLive = Layer.effectDiscard(runMigrations)
