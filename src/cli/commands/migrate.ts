import { Command } from "@effect/cli"
import { Effect } from "effect"

export const migrateCommand = Command.make("migrate", {}, () =>
  Effect.flatMap(Effect.promise(() => import("../server/migrate.ts")), (m) => m.runMigrate)).pipe(
    Command.withDescription(
      "Apply the database migrations (they also run when the service starts). Uses DATABASE_URL, or Vault's db.url."
    )
  )
