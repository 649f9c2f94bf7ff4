import { Schema } from "effect"
import type { ConnectorContext } from "../../ConnectorAdapter.ts"
import { marketplaceUrl, PollIntervalSeconds } from "../../marketplace/settings.ts"

export const GoogleSettings = Schema.Struct({
  /** The Merchant Center account id (`accounts/{accountId}`). */
  accountId: Schema.String.pipe(
    Schema.pattern(/^[0-9]{1,20}$/, { message: () => "must be the Merchant Center account id (digits only)" })
  ),
  /** The API data source products are inserted into (`accounts/{a}/dataSources/{dataSourceId}`). */
  dataSourceId: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/, { message: () => "must be the data source id (e.g. 104628)" })
  ),
  baseUrl: Schema.optionalWith(marketplaceUrl("baseUrl"), { default: () => "https://merchantapi.googleapis.com" }),
  tokenUrl: Schema.optionalWith(marketplaceUrl("tokenUrl"), { default: () => "https://oauth2.googleapis.com/token" }),
  /** ISO 639-1, part of the product's key. */
  contentLanguage: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[a-z]{2}$/, { message: () => "must be a two-letter ISO 639-1 code, e.g. en" })),
    { default: () => "en" }
  ),
  /** Part of the product's key: up to 20 of A-Z, 0-9, hyphen, underscore. */
  feedLabel: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[A-Z0-9_-]{1,20}$/, { message: () => "must be 1-20 of A-Z, 0-9, - and _" })),
    { default: () => "US" }
  ),
  pollIntervalSeconds: PollIntervalSeconds
})
export type GoogleSettings = typeof GoogleSettings.Type

export type GoogleContext = ConnectorContext<GoogleSettings>

/**
 * Client-side throttle buckets. Google publishes per-minute/per-day quotas
 * per project rather than per-second rates; these stay well inside the
 * defaults, and a quota error is backed off by `marketplaceCall`.
 */
export const rates = {
  token: { operation: "google.oauth2.token", ratePerSecond: 2, burst: 5 },
  insert: { operation: "google.productInputs.insert", ratePerSecond: 10, burst: 20 },
  list: { operation: "google.products.list", ratePerSecond: 5, burst: 10 }
} as const
