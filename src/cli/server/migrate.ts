import { Effect } from "effect"
import { LiveDbOnly } from "../../layers/Infra.ts"
import { JsonLogs } from "../../layers/Telemetry.ts"
import { runMigrations } from "../../programs/migrate.ts"
import { oneLineStartupErrors } from "../run.ts"

/** Loaded only by `migrate`. */
export const runMigrate = oneLineStartupErrors(Effect.asVoid(runMigrations).pipe(Effect.provide(LiveDbOnly))).pipe(
  Effect.provide(JsonLogs)
)
