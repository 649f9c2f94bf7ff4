import type { SqlClient } from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, Schema } from "effect"
import { PersistenceError } from "../services/Persistence.ts"

/**
 * SQLSTATE classes that mean "the server could not do it now" rather than "it
 * refuses this data": 08 connection exception, 53 insufficient resources,
 * 57 operator intervention (shutdown, cancel, admin termination), 58 system
 * error, 40 transaction rollback (serialization, deadlock: try again).
 */
const outageClasses = new Set(["08", "40", "53", "57", "58"])

const codeOf = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const code = (cause as { readonly code?: unknown }).code
  return typeof code === "string" ? code : undefined
}

/**
 * `pg` (and PGlite) put the SQLSTATE in `code` for errors the server sent; a
 * Node socket error has an errno name (`ECONNREFUSED`) there, and a dropped
 * connection often none at all: both are outages.
 */
export const classifySqlError = (operation: string, error: SqlError): PersistenceError => {
  const code = codeOf(error.cause)
  const sqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
  if (sqlState !== undefined && !outageClasses.has(sqlState.slice(0, 2))) {
    return new PersistenceError({ kind: "Rejected", operation, detail: `SQLSTATE ${sqlState}` })
  }
  return new PersistenceError({
    kind: "Unavailable",
    operation,
    detail: sqlState !== undefined ? `SQLSTATE ${sqlState}` : code ?? "connection lost"
  })
}

/** Maps an effect's SqlError to PersistenceError. */
export const persistence = (operation: string) =>
<A, R>(self: Effect.Effect<A, SqlError, R>): Effect.Effect<A, PersistenceError, R> =>
  Effect.mapError(self, (error) => classifySqlError(operation, error))

/**
 * A transaction whose failures are PersistenceErrors: `@effect/sql` turns a
 * failed COMMIT or ROLLBACK (the connection dropped at that moment) into a
 * defect; that is an outage like any other, not a bug.
 */
export const inTransaction = (sql: SqlClient, operation: string) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, SqlError> | PersistenceError, R> =>
  sql.withTransaction(self).pipe(
    Effect.catchIf(
      (error): error is SqlError => error instanceof SqlError,
      (error) => Effect.fail(classifySqlError(operation, error))
    ),
    Effect.catchSomeDefect((defect) =>
      defect instanceof SqlError ? Option.some(Effect.fail(classifySqlError(operation, defect))) : Option.none()
    )
  )

/**
 * Rows decoded with `schema`: a row of another shape is a mismatch between
 * this code and the schema (reported as a refusal, never silently coerced).
 */
export const decodeRows = <A, I>(schema: Schema.Schema<A, I>, operation: string) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, PersistenceError> =>
    decode(rows).pipe(
      Effect.mapError(() => new PersistenceError({ kind: "Rejected", operation, detail: "unexpected row shape" }))
    )
}

type RowsQuery = Effect.Effect<ReadonlyArray<unknown>, SqlError>

/**
 * A repository's readers for one row shape, each naming its operation for the
 * PersistenceError: `many` (every row), `one` (the first, if any) and `single`
 * (the row an INSERT … RETURNING must give: none is a refusal).
 */
export const rowReaders = <A, I, B>(schema: Schema.Schema<A, I>, reading: string, toModel: (row: A) => B) => {
  const decode = decodeRows(schema, reading)
  const many = (operation: string) => (query: RowsQuery) =>
    query.pipe(persistence(operation), Effect.flatMap(decode), Effect.map((rows) => rows.map(toModel)))
  const one = (operation: string) => (query: RowsQuery) =>
    many(operation)(query).pipe(Effect.map((rows) => Option.fromNullable(rows[0])))
  const single = (operation: string) => (query: RowsQuery) =>
    one(operation)(query).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new PersistenceError({ kind: "Rejected", operation, detail: "no row returned" })),
        onSome: Effect.succeed
      }))
    )
  return { many, one, single }
}
