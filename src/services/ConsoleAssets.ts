import { Context, type Option } from "effect"

/** One file of the ops console (src/console), as it is sent to the browser. */
export interface ConsoleAsset {
  readonly contentType: string
  readonly body: Uint8Array
}

/**
 * The ops console's static files (plain ES modules, a stylesheet, one page),
 * committed in the project and served by the service itself: nothing is fetched
 * from elsewhere, so the console works offline. Looked up by file name.
 */
export interface ConsoleAssetsShape {
  readonly find: (name: string) => Option.Option<ConsoleAsset>
}

export class ConsoleAssets extends Context.Tag("integration-service/ConsoleAssets")<ConsoleAssets, ConsoleAssetsShape>() {}
