import { amazonAdapter } from "./adapters/amazon.ts"
import { ebayAdapter } from "./adapters/ebay.ts"
import { googleShoppingAdapter } from "./adapters/googleShopping.ts"
import { makeConnectorRegistry } from "./ConnectorRegistry.ts"

/** Every connector the service runs: a new one is its module plus one entry here. */
export const ConnectorRegistryLive = makeConnectorRegistry([amazonAdapter, ebayAdapter, googleShoppingAdapter])
