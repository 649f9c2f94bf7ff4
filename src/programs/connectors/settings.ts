import { Schema } from "effect"

/** Settings every connector type shares: the marketplace's URLs (configurable for sandboxes and tests) and the poll interval. */
export const httpUrl = (field: string) =>
  Schema.String.pipe(
    Schema.filter((s) => {
      try {
        const url = new URL(s)
        return url.protocol === "https:" || url.protocol === "http:" || `${field} must be an http(s) URL`
      } catch {
        return `${field} must be an absolute URL`
      }
    })
  )

/** Seconds between polls of a config (SPEC: default 5 minutes). */
export const PollIntervalSeconds = Schema.optionalWith(
  Schema.Int.pipe(
    Schema.between(60, 86_400, { message: () => "pollIntervalSeconds must be an integer from 60 to 86400" })
  ),
  { default: () => 300 }
)
