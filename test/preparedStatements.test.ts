/**
 * Which statement texts the database client prepares (src/layers/db/preparedStatements.ts):
 * those run again and again, by a stable name, and never more than a bounded number; and
 * that the live pool prepares them on the server only when told to.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { makeStatementNames } from "../src/layers/db/preparedStatements.ts"
import { makeDbLive } from "../src/layers/DbLive.ts"
import { testDatabaseUrl } from "./support/context.ts"

describe("prepared statement names", () => {
  it("a text is prepared from its third run on, under one name; another text gets another name", () => {
    const statementName = makeStatementNames()
    const text = "SELECT $1::int AS a -- prepared-after"
    expect(statementName(text)).toBeUndefined()
    expect(statementName(text)).toBeUndefined()
    const name = statementName(text)
    expect(name).toMatch(/^is_[0-9a-f]{24}$/)
    expect(statementName(text)).toBe(name)
    const other = "SELECT $1::int AS b -- prepared-after"
    for (let i = 0; i < 3; i++) statementName(other)
    expect(statementName(other)).not.toBe(name)
  })

  it("past the most prepared texts (500 by default), texts built per call (a placeholder each) go unnamed", () => {
    const statementName = makeStatementNames({ preparedAfter: 3, maxPrepared: 50, maxCounted: 500 })
    const named = Array.from({ length: 60 }, (_, n) => {
      const text = `SELECT ${Array.from({ length: n + 1 }, (_, i) => `$${i + 1}`).join(", ")} -- per call`
      statementName(text)
      statementName(text)
      return statementName(text)
    })
    expect(named.filter((n) => n !== undefined)).toHaveLength(50)
    expect(named.at(-1)).toBeUndefined()
  })
})

describe("the live pool and prepared statements (real PostgreSQL)", () => {
  // One connection, so the statements counted are the ones this pool's session prepared.
  const preparedAfterRuns = (preparedStatements: boolean) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const marker = `prepared-${preparedStatements}-${Math.random().toString(36).slice(2, 8)}`
      for (let i = 0; i < 4; i++) yield* sql`SELECT ${i}::int AS n, ${marker}::text AS marker`
      const [row] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%AS marker%'`
      return row!.n
    }).pipe(Effect.provide(makeDbLive(Redacted.make(testDatabaseUrl()), { maxConnections: 1, preparedStatements })))

  it.effect("a statement run again and again is prepared on its connection; with preparing off, none is", () =>
    Effect.gen(function*() {
      expect(yield* preparedAfterRuns(true)).toBe(1)
      expect(yield* preparedAfterRuns(false)).toBe(0)
    }).pipe(Effect.orDie))
})
