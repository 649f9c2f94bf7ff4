// Writes the README's connector settings/credentials tables from the adapters' schemas
// (src/programs/connectors/catalog.ts). `--check`: exit 1 when the README is out of date.
import { readFileSync, writeFileSync } from "node:fs"
import { connectorCatalog } from "../src/programs/connectors/catalog.ts"
import { renderCatalogMarkdown, replaceCatalogSection } from "../src/programs/connectors/catalogMarkdown.ts"

const readmePath = new URL("../README.md", import.meta.url)
const readme = readFileSync(readmePath, "utf8")
const updated = replaceCatalogSection(readme, renderCatalogMarkdown(connectorCatalog))
if (updated === undefined) {
  console.error("README.md has no connector-types markers")
  process.exit(1)
}
if (process.argv.includes("--check")) {
  if (updated !== readme) {
    console.error("README.md's connector tables are out of date: run npm run docs:connectors")
    process.exit(1)
  }
} else {
  writeFileSync(readmePath, updated)
  console.log("README.md: connector tables written")
}
