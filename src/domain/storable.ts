import { Either } from "effect"

/**
 * What marketplaces answer is written to PostgreSQL (sync-log error summaries,
 * cursors, outbox values) and published to consumers that keep it in jsonb.
 * PostgreSQL text cannot hold U+0000; jsonb also refuses `\u0000` escapes and
 * unpaired surrogates. Both become U+FFFD here, so a hostile answer can never
 * make a poll's commit (or a run's result) fail.
 */
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** `text` without NUL or lone surrogates, cut (with "…") to at most `maxChars` UTF-16 units. */
export const storableText = (text: string, maxChars?: number): string => {
  const clean = text.replace(unstorable, "\ufffd")
  if (maxChars === undefined || clean.length <= maxChars) return clean
  let cut = Math.max(0, maxChars - 1)
  // Never split a surrogate pair.
  const last = clean.charCodeAt(cut - 1)
  if (last >= 0xd800 && last <= 0xdbff) cut--
  return `${clean.slice(0, cut)}…`
}

class TooDeep {
  readonly _tag = "TooDeep"
}

const setOwn = (target: Record<string, unknown>, key: string, value: unknown) => {
  // defineProperty: a key "__proto__" from a marketplace stays a plain property.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * A JSON value rebuilt with storable strings (keys too), non-finite numbers as
 * null, and at most `maxDepth` levels of arrays and objects; deeper input is
 * refused (Left with the reason) rather than walked, so it cannot exhaust the
 * stack of whatever serializes it next.
 */
export const storableJson = (value: unknown, maxDepth: number): Either.Either<unknown, string> => {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return storableText(v)
    if (typeof v === "number") return Number.isFinite(v) ? v : null
    if (v === null || typeof v === "boolean") return v
    if (typeof v !== "object") return undefined
    if (depth >= maxDepth) throw new TooDeep()
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1) ?? null)
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
      const walked = walk(item, depth + 1)
      if (walked !== undefined) setOwn(out, storableText(key), walked)
    }
    return out
  }
  try {
    return Either.right(walk(value, 0))
  } catch (error) {
    if (error instanceof TooDeep) return Either.left(`nested deeper than ${maxDepth} levels`)
    throw error
  }
}

const encoder = new TextEncoder()

/** UTF-8 length of a string (what Kafka and PostgreSQL count). */
export const utf8Length = (text: string) => encoder.encode(text).length

/** Null stays null. */
export const storableOrNull = (text: string | null, maxChars: number): string | null =>
  text === null ? null : storableText(text, maxChars)
