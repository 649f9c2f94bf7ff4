/**
 * Which statement texts the database client prepares (src/layers/db/preparedStatements.ts):
 * those run again and again, by a stable name, and never more than a bounded number.
 */
import { describe, expect, it } from "@effect/vitest"
import { statementName } from "../src/layers/db/preparedStatements.ts"

describe("prepared statement names", () => {
  it("a text is prepared from its third run on, under one name; another text gets another name", () => {
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

  it("past 500 prepared texts, texts built per call (a placeholder each) go unnamed", () => {
    const named = Array.from({ length: 600 }, (_, n) => {
      const text = `SELECT ${Array.from({ length: n + 1 }, (_, i) => `$${i + 1}`).join(", ")} -- per call`
      statementName(text)
      statementName(text)
      return statementName(text)
    })
    expect(named.filter((n) => n !== undefined).length).toBeLessThanOrEqual(500)
    expect(named.at(-1)).toBeUndefined()
  })
})
