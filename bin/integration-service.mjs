#!/usr/bin/env node
// `integration-service <command>`: runs the compiled CLI in dist/ (built by `npm install`, see
// scripts/build.mjs). When a file under src/ is newer than the build (a checkout, an edit) it is
// built again first (about a second), so what runs is always the source as it is now; where it
// cannot be built (no esbuild, a read-only directory) the TypeScript runs through tsx instead.
import { existsSync, readdirSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const compiled = join(root, "dist", "cli.js")

/** The newest modification time under `dir` (a few hundred stats: about a millisecond). */
const newestUnder = (dir) => {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs)
  }
  return newest
}

const upToDate = () =>
  existsSync(compiled) &&
  statSync(compiled).mtimeMs >= Math.max(newestUnder(join(root, "src")), statSync(join(root, "package.json")).mtimeMs)

let runCompiled = !existsSync(join(root, "src")) || upToDate()
if (!runCompiled) {
  try {
    const { buildCli } = await import(pathToFileURL(join(root, "scripts", "build.mjs")).href)
    await buildCli({ quiet: true, clean: false })
    runCompiled = true
  } catch {
    runCompiled = false
  }
}

if (runCompiled) {
  await import(pathToFileURL(compiled).href)
} else {
  const { register } = await import("tsx/esm/api")
  register()
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href)
}
