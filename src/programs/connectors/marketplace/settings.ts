import { Duration, Schema } from "effect"

/**
 * A marketplace URL setting (base and token URLs are configurable for
 * sandboxes and tests): absolute, http(s). Live mode further requires https
 * (`insecureUrlSettings`), checked when a config is saved and again before
 * every run.
 */
export const marketplaceUrl = (field: string) =>
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

/**
 * The adapter fields that follow from the settings every marketplace has (baseUrl, tokenUrl,
 * pollIntervalSeconds): which settings are URLs, and how often a config is polled.
 */
export const marketplaceSettingsFields = {
  urlSettings: ["baseUrl", "tokenUrl"] as const,
  pollIntervalOf: (settings: { readonly pollIntervalSeconds: number }) => Duration.seconds(settings.pollIntervalSeconds)
}

/** The switch that allows `http://` marketplace URLs in live mode (the one for webhook targets too). */
export const insecureTargetsSwitch = "WEBHOOK_ALLOW_INSECURE_TARGETS"

/**
 * The URL settings that are not https, each as `settings.<field>: …`, for a
 * 400 or a Misconfigured run. Refresh tokens, client secrets and signed JWTs
 * go to these URLs: in clear text only where insecure targets are allowed.
 */
export const insecureUrlSettings = (
  settings: Readonly<Record<string, unknown>>,
  fields: ReadonlyArray<string>
): ReadonlyArray<string> =>
  fields.flatMap((field) => {
    const value = settings[field]
    if (typeof value !== "string") return []
    let protocol: string
    try {
      protocol = new URL(value).protocol
    } catch {
      return [] // the schema names a URL that does not parse
    }
    return protocol === "https:"
      ? []
      : [`settings.${field}: must be an https URL (http only where ${insecureTargetsSwitch}=true)`]
  })
