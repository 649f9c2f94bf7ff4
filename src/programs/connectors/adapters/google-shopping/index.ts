import type { ConnectorAdapter } from "../../ConnectorAdapter.ts"
import { collectPages } from "../../marketplace/paging.ts"
import { marketplaceSettingsFields } from "../../marketplace/settings.ts"
import { pollStatusPage } from "./polling.ts"
import { handleEvent } from "./products.ts"
import { GoogleSettings } from "./settings.ts"

/**
 * Google Shopping: the Google Merchant API v1 (the Content API for Shopping
 * v2.1 is being shut down).
 *
 * - Auth: a service account's JWT bearer grant (auth.ts).
 * - Outbound: `product.updated` → `productInputs:insert` (products.ts).
 * - Inbound: product statuses, entity "product_status" (polling.ts, status.ts).
 *
 * Field names follow googleapis/googleapis
 * google/shopping/merchant/products/v1/{productinputs,products,products_common}.proto
 * (v1 says `productAttributes`; v1beta said `attributes`).
 */

export { productInputOf } from "./products.ts"
export { GoogleSettings } from "./settings.ts"

export interface GoogleShoppingOptions {
  /**
   * How many products' status fingerprints the cursor carries (about 30 bytes
   * each). Beyond it, the products not tracked are reported only when their
   * `lastUpdateDate` is newer than the previous scan.
   */
  readonly maxTrackedProducts?: number
  /** A guard against a listing that never ends (pages of one scan). */
  readonly maxPages?: number
  /** Pages of 250 products one poll reads at most; a longer scan goes on at the next poll. */
  readonly pagesPerPoll?: number
}

export const makeGoogleShoppingAdapter = (options: GoogleShoppingOptions = {}): ConnectorAdapter<GoogleSettings> => {
  const pollPage = pollStatusPage({
    maxTrackedProducts: options.maxTrackedProducts ?? 25_000,
    maxPages: options.maxPages ?? 2_000
  })
  return {
    connectorType: "google-shopping",
    supportedEvents: ["product.updated"],
    settings: GoogleSettings,
    ...marketplaceSettingsFields,
    credentialKeys: ["api-key", "api-secret"],
    pagesPerPoll: options.pagesPerPoll ?? 40,
    handleEvent,
    pollPage,
    poll: collectPages(pollPage)
  }
}

export const googleShoppingAdapter: ConnectorAdapter<GoogleSettings> = makeGoogleShoppingAdapter()
