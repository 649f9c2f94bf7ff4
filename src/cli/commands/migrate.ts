import { Command } from "@effect/cli"
import { Effect } from "effect"
import { LiveDbOnly } from "../../layers/Infra.ts"
import { JsonLogs } from "../../layers/Telemetry.ts"
import { runMigrations } from "../../programs/migrate.ts"
import { oneLineStartupErrors } from "../run.ts"

export const migrateCommand = Command.make("migrate", {}, () =>
  oneLineStartupErrors(Effect.asVoid(runMigrations).pipe(Effect.provide(LiveDbOnly))).pipe(Effect.provide(JsonLogs))).pipe(
    Command.withDescription(
      "Apply the database migrations (they also run when the service starts). Uses DATABASE_URL, or Vault's db.url."
    )
  )
