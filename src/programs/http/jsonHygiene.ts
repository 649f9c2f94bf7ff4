import { clipValue } from "./clip.ts"

/** JSON bodies nest at most this deep: nothing this API takes needs more, and deeper ones overflow serializers. */
export const maxJsonDepth = 64
const maxProblems = 20

export interface JsonProblem {
  readonly path: ReadonlyArray<string>
  readonly message: string
}

const isWellFormed = (text: string) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()

const stringProblem = (text: string): string | undefined =>
  text.includes("\u0000")
    ? "must not contain NUL (\\u0000) characters"
    : !isWellFormed(text)
    ? "is not valid Unicode (a lone surrogate)"
    : undefined

/**
 * What PostgreSQL (and every JSON serializer after it) would choke on in a
 * parsed JSON body: nesting deeper than `maxJsonDepth`, and strings (keys
 * included) holding NUL or lone surrogates, which text and jsonb columns
 * refuse. Iterative, so a deep body cannot overflow the stack here either.
 */
export const jsonProblems = (value: unknown): ReadonlyArray<JsonProblem> => {
  const problems: Array<JsonProblem> = []
  const stack: Array<{ readonly value: unknown; readonly path: ReadonlyArray<string> }> = [{ value, path: [] }]
  while (stack.length > 0 && problems.length < maxProblems) {
    const { path, value } = stack.pop()!
    if (typeof value === "string") {
      const problem = stringProblem(value)
      if (problem !== undefined) problems.push({ path, message: problem })
      continue
    }
    if (typeof value !== "object" || value === null) continue
    if (path.length >= maxJsonDepth) {
      problems.push({ path: path.slice(0, 3).concat("…"), message: `is nested deeper than ${maxJsonDepth} levels` })
      return problems
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!
      const keyProblem = stringProblem(key)
      if (keyProblem !== undefined) {
        problems.push({ path: [...path, clipValue(JSON.stringify(key))], message: `(a key) ${keyProblem}` })
        continue
      }
      stack.push({ value: child, path: [...path, key] })
    }
  }
  return problems
}
