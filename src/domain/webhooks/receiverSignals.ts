import { Duration, Option } from "effect"

/**
 * What a receiver can tell us besides success or failure (issue 12 item 3):
 * `429`/`503` with `Retry-After` (the next attempt waits at least that long,
 * capped, and never less than the table says), and `410 Gone` (the endpoint
 * is gone: its subscription is disabled, its waiting deliveries kept).
 */
export const retryAfterCap = Duration.hours(2)

/** Statuses whose Retry-After is honoured (RFC 9110 §10.2.3 names 503 and the 3xx; RFC 6585 adds 429). */
export const honoursRetryAfter = (status: number) => status === 429 || status === 503

export const goneStatus = 410

const deltaSeconds = /^\s*(\d{1,12})\s*$/

/**
 * The wait a `Retry-After` value asks for, in milliseconds from `nowMs`:
 * delta-seconds or an HTTP-date (a date in the past asks for none). None when
 * absent or unreadable. Capped at `retryAfterCap`.
 */
export const retryAfterMs = (value: string | undefined, nowMs: number): Option.Option<number> => {
  if (value === undefined || value.length > 100) return Option.none()
  const cap = Duration.toMillis(retryAfterCap)
  const seconds = deltaSeconds.exec(value)
  if (seconds !== null) return Option.some(Math.min(cap, Number(seconds[1]) * 1000))
  // An HTTP-date always names a weekday or month: plain numbers were handled above.
  if (!/[A-Za-z]/.test(value)) return Option.none()
  const at = Date.parse(value)
  return Number.isNaN(at) ? Option.none() : Option.some(Math.min(cap, Math.max(0, at - nowMs)))
}

/** The next attempt's wait: the table's, or longer when the receiver asked for more (within the cap). */
export const waitBeforeRetry = (tableMs: number, askedMs: Option.Option<number>): number =>
  Option.match(askedMs, { onNone: () => tableMs, onSome: (asked) => Math.max(tableMs, asked) })
