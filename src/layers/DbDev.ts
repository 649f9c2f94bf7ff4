import { Reactivity } from "@effect/experimental"
import { PgClient } from "@effect/sql-pg"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { PGlite } from "@electric-sql/pglite"
import { Effect, Layer, Stream } from "effect"

/**
 * PostgreSQL in-process (PGlite) for dev mode: nothing to install.
 *
 * PGlite is one connection. A pool would let a statement of one fiber run
 * inside another fiber's open transaction, so every statement and every
 * transaction takes the same one-permit semaphore: a transaction holds it
 * until it commits or rolls back, and the statements inside it reuse the
 * transaction's connection without asking again.
 */
export const makeDbDev = (dataDir: string | undefined) =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const pg = await PGlite.create(dataDir)
          await pg.waitReady
          return pg
        },
        catch: (cause) => new SqlError({ cause, message: "PGlite: failed to open the database" })
      }),
      (pg) => Effect.promise(() => pg.close()).pipe(Effect.ignore)
    )
    const gate = yield* Effect.makeSemaphore(1)

    const run = <A>(f: () => Promise<A>) =>
      Effect.tryPromise({
        try: f,
        catch: (cause) => new SqlError({ cause, message: "Failed to execute statement" })
      })

    // Without parameters the simple protocol runs, which (as with `pg`) accepts several statements.
    const rows = (sql: string, params: ReadonlyArray<unknown>) =>
      params.length === 0
        ? run(() => db.exec(sql)).pipe(Effect.map((results) => results.at(-1)?.rows ?? []))
        : run(() => db.query<any>(sql, params as Array<unknown>)).pipe(Effect.map((result) => result.rows))

    const connection: Connection = {
      execute: (sql, params, transformRows) =>
        transformRows ? Effect.map(rows(sql, params), transformRows) : rows(sql, params),
      executeRaw: (sql, params) => run(() => db.query(sql, params as Array<unknown>)),
      executeValues: (sql, params) =>
        run(() => db.query<Array<unknown>>(sql, params as Array<unknown>, { rowMode: "array" })).pipe(
          Effect.map((result) => result.rows)
        ),
      executeUnprepared: (sql, params, transformRows) =>
        transformRows ? Effect.map(rows(sql, params), transformRows) : rows(sql, params),
      executeStream: (sql, params, transformRows) =>
        Stream.fromIterableEffect(
          transformRows ? Effect.map(rows(sql, params), transformRows) : rows(sql, params)
        )
    }

    // Holding the permit for the acquirer's scope serializes statements and transactions alike.
    const acquire = Effect.as(Effect.acquireRelease(gate.take(1), () => gate.release(1)), connection)

    return yield* SqlClient.make({
      acquirer: acquire,
      transactionAcquirer: acquire,
      compiler: PgClient.makeCompiler(),
      spanAttributes: [["db.system.name", "postgresql"], ["db.namespace", "pglite"]]
    })
  })

/** `dataDir` undefined keeps the database in memory (tests). */
export const DbDev = (dataDir: string | undefined) =>
  Layer.scoped(SqlClient.SqlClient, makeDbDev(dataDir)).pipe(Layer.provide(Reactivity.layer))
