/**
 * The database is `@effect/sql`'s `SqlClient` (PostgreSQL dialect): programs
 * depend on that tag, and `src/layers/DbLive.ts` (PostgreSQL) or
 * `src/layers/DbDev.ts` (PGlite in-process) provides it.
 */
export { SqlClient } from "@effect/sql/SqlClient"
export { SqlError } from "@effect/sql/SqlError"
