import { Schema } from "effect"
import type { ConnectorContext } from "../../ConnectorAdapter.ts"
import { marketplaceUrl, PollIntervalSeconds } from "../../marketplace/settings.ts"

/** What the refresh-token grant asks for: listing management and order reading. */
export const defaultEbayScopes: ReadonlyArray<string> = [
  "https://api.ebay.com/oauth/api_scope/sell.inventory",
  "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
]

export const EbaySettings = Schema.Struct({
  baseUrl: Schema.optionalWith(marketplaceUrl("baseUrl"), { default: () => "https://api.ebay.com" }),
  tokenUrl: Schema.optionalWith(marketplaceUrl("tokenUrl"), {
    default: () => "https://api.ebay.com/identity/v1/oauth2/token"
  }),
  /** The marketplace whose offers are updated (`EBAY_US`, `EBAY_GB`, `EBAY_DE`, …). */
  marketplaceId: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^EBAY_[A-Z_]{2,16}$/, { message: () => "marketplaceId must be an eBay marketplace id, e.g. EBAY_US" })
    ),
    { default: () => "EBAY_US" }
  ),
  /** The `Content-Language` of inventory item payloads. */
  contentLanguage: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[a-z]{2}-[A-Z]{2}$/, { message: () => "contentLanguage must look like en-US" })
    ),
    { default: () => "en-US" }
  ),
  /** The marketplace's currency: offer prices are sent in it, and an event priced otherwise is refused. */
  currency: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[A-Z]{3}$/, { message: () => "currency must be an ISO 4217 code, e.g. USD" })),
    { default: () => "USD" }
  ),
  /** OAuth scopes of the refresh-token grant (a subset of those the seller consented to). */
  scopes: Schema.optionalWith(
    Schema.Array(
      Schema.String.pipe(Schema.pattern(/^https:\/\/\S+$/, { message: () => "scopes must be eBay OAuth scope URLs" }))
    ).pipe(Schema.minItems(1, { message: () => "scopes must not be empty" })),
    { default: () => defaultEbayScopes }
  ),
  pollIntervalSeconds: PollIntervalSeconds
})
export type EbaySettings = typeof EbaySettings.Type

export type EbayContext = ConnectorContext<EbaySettings>

/**
 * eBay publishes no per-second rates for the Sell APIs, only daily call limits
 * per application (developer.ebay.com "API Call Limits"; the OAuth refresh-token
 * grant: 50,000 a day) and answers 429 when one is exceeded. These buckets only
 * spread a burst of events so that one busy store does not burn the day's
 * allowance in a minute; 429/Retry-After is still answered by `marketplaceCall`.
 */
export const rates = {
  inventory: { ratePerSecond: 5, burst: 10 },
  fulfillment: { ratePerSecond: 5, burst: 10 },
  token: { ratePerSecond: 1, burst: 5 }
} as const
