import { Either, ParseResult, Schema } from "effect"
import { EventEnvelope } from "./EventEnvelope.ts"

/**
 * Checks a consumed Kafka message before it is taken in. A message that fails
 * is quarantined with a reason and a detail that say where and why — never a
 * value from it (an envelope may carry customer data).
 */
export interface EnvelopeLimits {
  readonly maxBytes: number
  readonly maxDepth: number
}

export type RejectionReason =
  | "empty"
  | "too_large"
  | "invalid_utf8"
  | "invalid_json"
  | "too_deep"
  | "unstorable_string"
  | "invalid_envelope"
  | "rejected_by_database"
  | "internal_error"

export interface Rejection {
  readonly reason: RejectionReason
  readonly detail: string
  /** Read from the envelope when it got that far and they are well-formed (for listing by store). */
  readonly storeId: string | null
  readonly eventId: string | null
}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const decodeEnvelope = Schema.decodeUnknownEither(EventEnvelope)

/** Nesting depth of JSON text, counted without parsing it (a parser may overflow its stack on hostile depth). */
export const jsonDepth = (text: string, stopAbove: number): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) deepest = depth
      if (deepest > stopAbove) return deepest
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return deepest
}

// PostgreSQL's jsonb refuses \u0000, and a lone surrogate has no UTF-8 form.
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

// In text that decoded as UTF-8 and parsed as JSON, a NUL or a surrogate can only come from a
// \u escape (JSON refuses raw control characters in strings, UTF-8 has no surrogates): text
// without one needs no walk of the parsed value. A match (even `\\u0000`, an escaped
// backslash) only means the walk decides.
const mayHoldUnstorable = /\\u(?:0000|[dD][89a-fA-F])/

/** The path of the first string (key or value) PostgreSQL cannot store, or undefined. */
export const unstorableStringAt = (value: unknown): string | undefined => {
  const stack: Array<readonly [unknown, string]> = [[value, ""]]
  while (stack.length > 0) {
    const [current, path] = stack.pop()!
    if (typeof current === "string") {
      if (unstorable.test(current)) return path || "(root)"
    } else if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push([item, `${path}[${i}]`]))
    } else if (typeof current === "object" && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        if (unstorable.test(key)) return `${path || "(root)"} (a key)`
        stack.push([item, path === "" ? key : `${path}.${key}`])
      }
    }
  }
  return undefined
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const storeIdShape = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/

const idsOf = (value: unknown) => {
  const record = typeof value === "object" && value !== null ? value as Record<string, unknown> : {}
  const storeId = typeof record["storeId"] === "string" && storeIdShape.test(record["storeId"]) ? record["storeId"] : null
  const eventId = typeof record["eventId"] === "string" && uuid.test(record["eventId"]) ? record["eventId"] : null
  return { storeId, eventId }
}

/** Field paths and what is wrong with each, never the values. */
const describeIssues = (error: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => `${issue.path.length === 0 ? "(envelope)" : issue.path.join(".")}: ${issue._tag === "Missing" ? "is missing" : "is invalid"}`)
    .join("; ")
    .slice(0, 500)

const noIds = { storeId: null, eventId: null }

const reject = (
  reason: RejectionReason,
  detail: string,
  ids: { readonly storeId: string | null; readonly eventId: string | null } = noIds
): Either.Either<EventEnvelope, Rejection> => Either.left({ reason, detail, ...ids })

export const inspectMessage = (value: Uint8Array | null, limits: EnvelopeLimits): Either.Either<EventEnvelope, Rejection> => {
  if (value === null || value.byteLength === 0) return reject("empty", "the message has no value")
  if (value.byteLength > limits.maxBytes) {
    return reject("too_large", `${value.byteLength} bytes, over the ${limits.maxBytes}-byte limit`)
  }
  let text: string
  try {
    text = utf8.decode(value)
  } catch {
    return reject("invalid_utf8", "the value is not valid UTF-8")
  }
  const depth = jsonDepth(text, limits.maxDepth)
  if (depth > limits.maxDepth) return reject("too_deep", `nested deeper than ${limits.maxDepth} levels`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return reject("invalid_json", "the value is not JSON")
  }
  const ids = idsOf(json)
  const bad = mayHoldUnstorable.test(text) ? unstorableStringAt(json) : undefined
  if (bad !== undefined) return reject("unstorable_string", `a NUL character or a lone surrogate at ${bad.slice(0, 200)}`, ids)
  const decoded = decodeEnvelope(json, { errors: "all" })
  return Either.isRight(decoded) ? Either.right(decoded.right) : reject("invalid_envelope", describeIssues(decoded.left), ids)
}
