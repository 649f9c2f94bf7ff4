import { Effect, Layer, Option } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { type ConsoleAsset, ConsoleAssets } from "../services/ConsoleAssets.ts"

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml"
}

const extensionOf = (name: string) => name.slice(name.lastIndexOf("."))

/** The folder the console's files are committed in (copied with src/ into the image). */
export const consoleAssetsDir = fileURLToPath(new URL("../console/", import.meta.url))

/**
 * Reads every console file once, when the layer is built: a request never
 * touches the disk, and only the files found there (by exact name) are served.
 */
export const makeConsoleAssetsNode = (dir: string) =>
  Layer.effect(
    ConsoleAssets,
    Effect.sync(() => {
      const files = new Map<string, ConsoleAsset>()
      for (const name of readdirSync(dir)) {
        const contentType = contentTypes[extensionOf(name)]
        if (contentType === undefined) continue
        files.set(name, { contentType, body: new Uint8Array(readFileSync(`${dir}/${name}`)) })
      }
      return ConsoleAssets.of({ find: (name) => Option.fromNullable(files.get(name)) })
    })
  )

export const ConsoleAssetsNode = makeConsoleAssetsNode(consoleAssetsDir)
