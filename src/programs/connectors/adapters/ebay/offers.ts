import { Effect } from "effect"
import { ConnectorError } from "../../ConnectorAdapter.ts"
import { marketplaceUrl } from "../../marketplace/http.ts"
import { isRecord, str } from "../../marketplace/json.ts"
import { type Credentials, describeErrorDetail, expectStatus, sellApi } from "./api.ts"
import { type EbayContext, rates } from "./settings.ts"

/** eBay `Amount`: the value as a decimal string. */
export const amount = (price: { readonly amount: number; readonly currency: string }) => ({
  value: price.amount.toFixed(2),
  currency: price.currency
})

interface Offer {
  readonly offerId: string
}

/**
 * The SKU's offers that `bulkUpdatePriceQuantity` can revise: published
 * (the call does not work on unpublished offers; those are priced when they
 * are created), fixed-price (an auction's price is not a buy-it-now price), on
 * this config's marketplace. eBay answers 404 when the SKU has no offer at all;
 * that is "none", not a failure.
 */
export const findOffers = (context: EbayContext, credentials: Credentials, sku: string) =>
  Effect.gen(function*() {
    const response = yield* sellApi(context, credentials, {
      method: "GET",
      url: marketplaceUrl(context.settings.baseUrl, "/sell/inventory/v1/offer", { sku }),
      operation: "getOffers",
      ...rates.inventory
    })
    if (response.status === 404) return [] as ReadonlyArray<Offer>
    yield* expectStatus("getOffers", response, [200])
    const body = response.body
    const offers = isRecord(body) && Array.isArray(body.offers) ? body.offers : []
    return offers.filter((o): o is Record<string, unknown> & Offer =>
      isRecord(o) && typeof o.offerId === "string" && o.offerId !== "" &&
      (o.sku === undefined || o.sku === sku) &&
      (o.marketplaceId === undefined || o.marketplaceId === context.settings.marketplaceId) &&
      (o.format === undefined || o.format === "FIXED_PRICE") &&
      (o.status === undefined || o.status === "PUBLISHED")
    ).map((o) => ({ offerId: o.offerId }))
  })

/** One entry of a `bulkUpdatePriceQuantity` request (`PriceQuantity`). */
export interface PriceQuantity {
  readonly sku: string
  readonly shipToLocationAvailability?: { readonly quantity: number }
  readonly offers?: ReadonlyArray<{
    readonly offerId: string
    readonly availableQuantity?: number
    readonly price?: { readonly value: string; readonly currency: string }
  }>
}

/** eBay takes at most 25 entries per `bulkUpdatePriceQuantity` request. */
const bulkLimit = 25

/**
 * `bulkUpdatePriceQuantity`, 25 entries a request. The call answers 200 (all
 * applied) or 207 (some failed) with one `responses[]` entry per offer or item,
 * each with its own `statusCode`: any entry other than 200 fails the run with
 * that entry's errors (Unavailable for a 5xx entry, else Rejected). Entries
 * that succeeded stay applied; the values are absolute, so a retry is harmless.
 */
export const bulkUpdatePriceQuantity = (
  context: EbayContext,
  credentials: Credentials,
  requests: ReadonlyArray<PriceQuantity>
) =>
  Effect.gen(function*() {
    for (let i = 0; i < requests.length; i += bulkLimit) {
      const response = yield* sellApi(context, credentials, {
        method: "POST",
        url: marketplaceUrl(context.settings.baseUrl, "/sell/inventory/v1/bulk_update_price_quantity"),
        json: { requests: requests.slice(i, i + bulkLimit) },
        operation: "bulkUpdatePriceQuantity",
        ...rates.inventory
      })
      yield* expectStatus("bulkUpdatePriceQuantity", response, [200, 207])
      const body = response.body
      const entries = isRecord(body) && Array.isArray(body.responses) ? body.responses.filter(isRecord) : []
      const failures = entries.filter((e) => e.statusCode !== 200)
      if (failures.length > 0) {
        const serverSide = failures.some((e) => typeof e.statusCode === "number" && e.statusCode >= 500)
        const described = failures.map((e) => {
          const target = [`sku ${str(e.sku)}`, ...(e.offerId !== undefined ? [`offer ${str(e.offerId)}`] : [])].join(" ")
          const errors = Array.isArray(e.errors) && e.errors.length > 0
            ? e.errors.map(describeErrorDetail).join("; ")
            : "no error given"
          return `${target}: HTTP ${str(e.statusCode)}: ${errors}`
        })
        return yield* Effect.fail(
          new ConnectorError({
            kind: serverSide ? "Unavailable" : "Rejected",
            message: `bulkUpdatePriceQuantity: ${failures.length} of ${entries.length} updates failed: ${described.join(" | ")}`
          })
        )
      }
    }
  })
