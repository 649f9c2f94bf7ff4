import { Schema } from "effect"
import type { ConnectorContext } from "../../ConnectorAdapter.ts"
import { marketplaceUrl, PollIntervalSeconds } from "../../marketplace/settings.ts"

export const AmazonSettings = Schema.Struct({
  /** The selling partner (merchant) id: the `{sellerId}` of the Listings Items paths. */
  sellerId: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9]{1,64}$/, { message: () => "sellerId must be 1-64 letters or digits" })
  ),
  marketplaceId: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[A-Za-z0-9]{1,32}$/, { message: () => "marketplaceId must be 1-32 letters or digits" })
    ),
    { default: () => "ATVPDKIKX0DER" }
  ),
  /** The Amazon product type listings are submitted as (Product Type Definitions API). */
  productType: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[A-Z0-9_]{1,100}$/, { message: () => "productType must be an Amazon product type, e.g. PRODUCT" })
    ),
    { default: () => "PRODUCT" }
  ),
  /** The `language_tag` of localized listing attributes (item_name, product_description, brand). */
  languageTag: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[a-z]{2,3}_[A-Z]{2}$/, { message: () => "languageTag must look like en_US" })
    ),
    { default: () => "en_US" }
  ),
  baseUrl: Schema.optionalWith(marketplaceUrl("baseUrl"), { default: () => "https://sellingpartnerapi-na.amazon.com" }),
  tokenUrl: Schema.optionalWith(marketplaceUrl("tokenUrl"), { default: () => "https://api.amazon.com/auth/o2/token" }),
  pollIntervalSeconds: PollIntervalSeconds
})
export type AmazonSettings = typeof AmazonSettings.Type

export type AmazonContext = ConnectorContext<AmazonSettings>

export interface Rate {
  readonly ratePerSecond: number
  readonly burst: number
}

/** The published default usage plans (requests per second, burst). */
export const rates = {
  listings: { ratePerSecond: 5, burst: 10 },
  getOrders: { ratePerSecond: 0.0167, burst: 20 },
  getOrderItems: { ratePerSecond: 0.5, burst: 30 },
  confirmShipment: { ratePerSecond: 2, burst: 10 },
  // LWA publishes no rate; this only keeps a misbehaving loop from hammering it.
  token: { ratePerSecond: 1, burst: 5 }
} as const satisfies Record<string, Rate>
