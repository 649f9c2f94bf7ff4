import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { TableUpkeep } from "../../services/DeliveryStore.ts"
import type { PersistenceError } from "../../services/Persistence.ts"
import { persistence } from "../sqlErrors.ts"

/** The engine's own tables: every delivery writes each of them several times. */
const engineTables = ["webhook_deliveries", "webhook_delivery_attempts", "kafka_outbox", "webhook_subscriptions"] as const

/**
 * Vacuums and analyzes the engine's tables when the server does not: with
 * `autovacuum` off, dead row versions pile up (every claim and result writes a
 * new one) and the planner plans a queue table from statistics it never had.
 * The thresholds are autovacuum's own shape, tighter (a queue table churns):
 * vacuum past 50 + 10 % dead, analyze past 50 + 5 % changed since the last
 * analyze, read from the server's activity counters. With autovacuum on it does
 * nothing: the server is looking after them.
 */
export const tableUpkeep = (sql: SqlClient): Effect.Effect<TableUpkeep, PersistenceError> =>
  Effect.gen(function*() {
    const [setting] = yield* sql<{ on: boolean }>`SELECT current_setting('autovacuum') = 'on' AS on`
    if (setting?.on !== false) return { serverDoesIt: true, vacuumed: [], analyzed: [] }
    const due = yield* sql<{ relname: string; vacuum: boolean; analyze: boolean }>`
      SELECT relname,
             n_dead_tup > 50 + 0.1 * greatest(n_live_tup, 0) AS vacuum,
             n_mod_since_analyze > 50 + 0.05 * greatest(n_live_tup, 0) AS analyze
      FROM pg_stat_user_tables
      WHERE schemaname = current_schema() AND relname = ANY (${engineTables}::text[])`
    const vacuumed: Array<string> = []
    const analyzed: Array<string> = []
    for (const table of due) {
      // Names from the fixed list above, matched by the server: safe to quote as identifiers.
      if (table.vacuum) {
        yield* sql`VACUUM (ANALYZE) ${sql(table.relname)}`
        vacuumed.push(table.relname)
      } else if (table.analyze) {
        yield* sql`ANALYZE ${sql(table.relname)}`
        analyzed.push(table.relname)
      }
    }
    return { serverDoesIt: false, vacuumed, analyzed }
  }).pipe(persistence("table upkeep"))
