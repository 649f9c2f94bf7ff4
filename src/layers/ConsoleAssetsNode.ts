import { Effect, Layer, Option } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { type ConsoleAsset, ConsoleAssets } from "../services/ConsoleAssets.ts"

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml"
}

const extensionOf = (name: string) => name.slice(name.lastIndexOf("."))

/**
 * The folder the console's files are committed in (copied with src/ into the
 * image): `src/console/` next to this file when it runs from source, or seen
 * from the compiled CLI's chunks (`dist/chunks/`) when it runs from the build.
 */
export const consoleAssetsDir = ["../console/", "../../src/console/"]
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((dir) => existsSync(`${dir}/index.html`)) ?? fileURLToPath(new URL("../console/", import.meta.url))

/**
 * Reads every console file once, when the layer is built: a request never
 * touches the disk, and only the files found there (by exact name) are served.
 */
export const makeConsoleAssetsNode = (dir: string) =>
  Layer.effect(
    ConsoleAssets,
    Effect.try(() => {
      const files = new Map<string, ConsoleAsset>()
      for (const name of readdirSync(dir)) {
        const contentType = contentTypes[extensionOf(name)]
        if (contentType === undefined) continue
        files.set(name, { contentType, body: new Uint8Array(readFileSync(`${dir}/${name}`)) })
      }
      return files
    }).pipe(
      // Without its files the console answers 404; the service and its API start all the same.
      Effect.catchAll((error) =>
        Effect.logWarning("ops console: its files could not be read; /console answers 404").pipe(
          Effect.annotateLogs({ dir, why: error.error instanceof Error ? error.error.message : String(error.error) }),
          Effect.as(new Map<string, ConsoleAsset>())
        )
      ),
      Effect.map((files) => ConsoleAssets.of({ find: (name) => Option.fromNullable(files.get(name)) }))
    )
  )

export const ConsoleAssetsNode = makeConsoleAssetsNode(consoleAssetsDir)
