import { createHash } from "node:crypto"
import Pg from "pg"

export interface StatementNaming {
  /** A text is prepared once it has been run this many times (the engine's run thousands). */
  readonly preparedAfter: number
  /** At most this many texts are ever prepared: a text built per call (a list of placeholders) is not worth it. */
  readonly maxPrepared: number
  /** Texts counted so far, bounded too, so a stream of one-off texts costs nothing lasting. */
  readonly maxCounted: number
}

const defaultNaming: StatementNaming = { preparedAfter: 3, maxPrepared: 500, maxCounted: 5_000 }

/** Names texts worth preparing: the server-side name, or undefined (sent unnamed, parsed and planned anew). */
export const makeStatementNames = (naming: StatementNaming = defaultNaming) => {
  const counts = new Map<string, number>()
  const names = new Map<string, string>()
  return (text: string): string | undefined => {
    const known = names.get(text)
    if (known !== undefined) return known
    if (names.size >= naming.maxPrepared) return undefined
    const seen = (counts.get(text) ?? 0) + 1
    if (seen < naming.preparedAfter) {
      if (counts.size < naming.maxCounted) counts.set(text, seen)
      return undefined
    }
    counts.delete(text)
    const name = `is_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`
    names.set(text, name)
    return name
  }
}

/** The process's naming: names are per text, so every connection prepares a text under the same one. */
const statementName = makeStatementNames()

type QueryCallback = (err: Error, result: Pg.QueryResult) => void

/**
 * A `pg` client that runs the statements the service sends again and again as
 * named prepared statements: PostgreSQL parses a claim or a batch of results
 * once per connection, not on every call, and after five custom plans it may
 * keep a generic one (`plan_cache_mode`), instead of planning each call anew.
 * Measured on the engine's statements, parsing and planning were a quarter of
 * the server's time. Only `query(text, values, callback)` with parameters, the
 * form `@effect/sql-pg` uses, is prepared; every other call goes through as is.
 */
export class PreparingClient extends Pg.Client {
  // pg's query has many overloads; only the one @effect/sql-pg uses is rewritten.
  override query(...args: Array<unknown>): never {
    const [text, values, callback] = args
    if (typeof text === "string" && Array.isArray(values) && values.length > 0 && typeof callback === "function") {
      const name = statementName(text)
      if (name !== undefined) {
        return super.query({ name, text, values }, callback as QueryCallback) as never
      }
    }
    return (super.query as (...a: Array<unknown>) => unknown)(...args) as never
  }
}
