import { Duration } from "effect"

/**
 * How long a marketplace is given to make an order change visible to its
 * order search: a poll's window never reaches past `now − settle`, so a change
 * indexed late is still inside the next window. Amazon documents it
 * (`LastUpdatedBefore` at least 2 minutes before now); eBay documents none and
 * is given the same margin.
 */
export const settleTime = Duration.minutes(2)

/** The first poll of a config looks this far back. */
export const firstLookback = Duration.days(1)

/** The end of what can be asked for now: `now − settle`. */
export const horizonOf = (now: number) => now - Duration.toMillis(settleTime)

/** ISO-8601 to the second (what Amazon's own dates carry). */
export const isoSeconds = (millis: number) =>
  new Date(Math.floor(millis / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")
