#!/usr/bin/env node
// Compiles the CLI (src/cli/main.ts and everything it reaches) to dist/ with esbuild, so that
// `integration-service` starts without transpiling TypeScript on every run. Runs at `npm install`
// / `npm ci` (the `prepare` script) and again from bin/integration-service.mjs when src/ changed.
//
// Pure-JavaScript packages are bundled: the barrels of `effect` and `@effect/platform` cost ~600 ms
// to load whole, and what they pull in (fast-check, undici, ws, ini/toml/yaml) another ~400 ms;
// bundled, only what the CLI uses is kept. The server's own packages stay ordinary imports resolved
// by Node (native modules, PGlite's wasm files, pg, kafkajs, node-vault, OpenTelemetry): they are
// loaded only by `dev`/`serve`/`migrate`, and bundling them would gain nothing there.
// Code splitting keeps what `import()` loads lazily (the server, the receiver, Kafka) out of the
// chunk every command loads.
import { build } from "esbuild"
import { rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const outdir = join(root, "dist")

const leftToNode =
  /^(bcrypt|pg|pg-[a-z-]+|@electric-sql\/[^/]+|kafkajs|node-vault|@opentelemetry\/[^/]+|bufferutil|utf-8-validate|tsx|esbuild)(\/|$)/

/** Bare imports of the server's packages are left to Node. */
const externalPackages = {
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || leftToNode.test(args.path)) {
        return { path: args.path, external: true }
      }
      return undefined
    })
  }
}

/**
 * `clean`: remove dist/ first (a full build); a rebuild from the bin script only overwrites, so
 * a command started meanwhile never finds the directory gone (stale chunks are never imported).
 */
export const buildCli = async ({ quiet = false, clean = true } = {}) => {
  if (clean) rmSync(outdir, { recursive: true, force: true })
  const started = Date.now()
  await build({
    absWorkingDir: root,
    entryPoints: { cli: "src/cli/main.ts" },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    chunkNames: "chunks/[name]-[hash]",
    logLevel: "warning",
    plugins: [externalPackages],
    // Bundled CommonJS (none today, but a dependency may grow some) needs `require`.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
  })
  if (!quiet) console.log(`built dist/cli.js in ${Date.now() - started} ms`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildCli()
}
