import type { ConnectorAdapter } from "../../ConnectorAdapter.ts"
import { eventHandlers } from "../../marketplace/events.ts"
import { refreshTokenGrantKeys } from "../../marketplace/oauth.ts"
import { collectPages } from "../../marketplace/paging.ts"
import { marketplaceSettingsFields } from "../../marketplace/settings.ts"
import { updateInventory, upsertInventoryItem } from "./inventory.ts"
import { newestFirstSeen, pollOrdersPage } from "./polling.ts"
import { EbaySettings } from "./settings.ts"

/**
 * eBay connector: the Sell Inventory API and the Sell Fulfillment API.
 *
 * - product.updated → `createOrReplaceInventoryItem` (PUT inventory_item/{sku}, a
 *   full replace), then, when the event carries a price, `getOffers` and
 *   `bulkUpdatePriceQuantity` for the SKU's published offers (inventory.ts, offers.ts).
 * - inventory.updated → `getOffers`, then `bulkUpdatePriceQuantity` (the
 *   item's ship-to-home quantity and each published offer's available quantity,
 *   and the price when the event carries one).
 * - poll → `getOrders` filtered on `lastmodifieddate` (polling.ts).
 * - OAuth: the refresh-token grant (a user access token, Basic client
 *   credentials), sent as `Authorization: Bearer …` (api.ts).
 *
 * Shapes per developer.ebay.com (sell/inventory/v1, sell/fulfillment/v1,
 * identity/v1/oauth2/token).
 */

export { aspectsOf, inventoryItemBody } from "./inventory.ts"
export type { PriceQuantity } from "./offers.ts"
export { defaultEbayScopes, EbaySettings } from "./settings.ts"
export { describeEbayError } from "./api.ts"

export interface EbayOptions {
  /** Pages of 50 orders one poll reads at most (the rest of a catch-up follows at the next poll). */
  readonly pagesPerPoll?: number
}

export const makeEbayAdapter = (options: EbayOptions = {}): ConnectorAdapter<EbaySettings> => ({
  connectorType: "ebay",
  settings: EbaySettings,
  ...marketplaceSettingsFields,
  credentialKeys: refreshTokenGrantKeys,
  pagesPerPoll: options.pagesPerPoll ?? 20,
  ...eventHandlers({
    "product.updated": upsertInventoryItem,
    "inventory.updated": updateInventory
  }),
  pollPage: pollOrdersPage,
  poll: collectPages(pollOrdersPage, newestFirstSeen)
})

export const ebayAdapter: ConnectorAdapter<EbaySettings> = makeEbayAdapter()
