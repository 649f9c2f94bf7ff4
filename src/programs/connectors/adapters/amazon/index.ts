import type { ConnectorAdapter } from "../../ConnectorAdapter.ts"
import { eventHandlers } from "../../marketplace/events.ts"
import { refreshTokenGrantKeys } from "../../marketplace/oauth.ts"
import { collectPages } from "../../marketplace/paging.ts"
import { marketplaceSettingsFields } from "../../marketplace/settings.ts"
import { upsertListing, updateInventory } from "./listings.ts"
import { pollOrdersPage } from "./polling.ts"
import { AmazonSettings, type Rate, rates } from "./settings.ts"
import { confirmShipment } from "./shipments.ts"

/**
 * Amazon Selling Partner API (SP-API) connector.
 *
 * - Listings Items API 2021-08-01: `putListingsItem` (product.updated),
 *   `patchListingsItem` (inventory.updated) — listings.ts.
 * - Orders API v0: `confirmShipment` (order.fulfilled, with `getOrderItems`
 *   to find Amazon's order item ids by SKU) — shipments.ts; `getOrders` (poll)
 *   — polling.ts.
 * - Login with Amazon (LWA) refresh-token grant for the access token — api.ts.
 *
 * Shapes as in amzn/selling-partner-api-models (`listingsItems_2021-08-01.json`,
 * `ordersV0.json`); rates are the published default usage plans.
 */

export { listingAttributes } from "./listings.ts"
export { describeAmazonError } from "./errors.ts"
export { AmazonSettings } from "./settings.ts"

export interface AmazonOptions {
  /** getOrders' usage plan (default: Amazon's, 0.0167 requests per second, burst 20). */
  readonly getOrdersRate?: Rate
  /**
   * Pages of 100 orders one poll reads at most. At the default rate the burst
   * of 20 is spent after two polls; from then on about one page a minute comes
   * free, and a poll stops at its time limit, the rest following at the next.
   */
  readonly pagesPerPoll?: number
}

export const makeAmazonAdapter = (options: AmazonOptions = {}): ConnectorAdapter<AmazonSettings> => {
  const pollPage = pollOrdersPage(options.getOrdersRate ?? rates.getOrders)
  return {
    connectorType: "amazon",
    settings: AmazonSettings,
    ...marketplaceSettingsFields,
    credentialKeys: refreshTokenGrantKeys,
    pagesPerPoll: options.pagesPerPoll ?? 10,
    ...eventHandlers({
      "product.updated": upsertListing,
      "inventory.updated": updateInventory,
      "order.fulfilled": confirmShipment
    }),
    pollPage,
    poll: collectPages(pollPage)
  }
}

export const amazonAdapter: ConnectorAdapter<AmazonSettings> = makeAmazonAdapter()
