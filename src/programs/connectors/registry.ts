import { amazonAdapter } from "./adapters/amazon/index.ts"
import { ebayAdapter } from "./adapters/ebay/index.ts"
import { googleShoppingAdapter } from "./adapters/google-shopping/index.ts"
import { makeConnectorRegistry } from "./ConnectorRegistry.ts"

/** Every connector the service runs: a new one is its folder under adapters/ plus one entry here. */
export const ConnectorRegistryLive = makeConnectorRegistry([amazonAdapter, ebayAdapter, googleShoppingAdapter])
