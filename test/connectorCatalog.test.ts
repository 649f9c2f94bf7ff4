/**
 * The connector settings and credentials that `connectors types` prints and
 * the README lists come from the adapters' schemas: the README is what the
 * generator writes now (run `npm run docs:connectors` after changing a schema).
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import { connectorCatalog, describeSettings } from "../src/programs/connectors/catalog.ts"
import { renderCatalogMarkdown, replaceCatalogSection } from "../src/programs/connectors/catalogMarkdown.ts"

describe("connector catalog", () => {
  it("reads required fields, types, ranges, patterns and defaults from a settings schema", () => {
    const fields = describeSettings(Schema.Struct({
      id: Schema.String.pipe(Schema.pattern(/^[0-9]+$/)),
      every: Schema.optionalWith(Schema.Int.pipe(Schema.between(60, 600)), { default: () => 120 }),
      tags: Schema.optional(Schema.Array(Schema.String))
    }))
    expect(fields).toEqual([
      { name: "id", type: "string", required: true, default: undefined, pattern: "^[0-9]+$" },
      { name: "every", type: "integer 60–600", required: false, default: "120", pattern: undefined },
      { name: "tags", type: "array of string", required: false, default: undefined, pattern: undefined }
    ])
  })

  it("describes every shipped connector with its events, settings and the credentials it needs", () => {
    expect(connectorCatalog.map((c) => c.connectorType)).toEqual(["amazon", "ebay", "google-shopping"])
    const google = connectorCatalog.find((c) => c.connectorType === "google-shopping")!
    expect(google.settings.filter((s) => s.required).map((s) => s.name)).toEqual(["accountId", "dataSourceId"])
    expect(google.credentials.map((c) => c.field)).toEqual(["apiKey", "apiSecret"])
    const amazon = connectorCatalog.find((c) => c.connectorType === "amazon")!
    expect(amazon.credentials.map((c) => [c.field, c.vaultKey, c.flag])).toEqual([
      ["apiKey", "api-key", "--api-key"],
      ["apiSecret", "api-secret", "--api-secret"],
      ["refreshToken", "refresh-token", "--refresh-token"]
    ])
  })

  it("the README's connector tables are the generated ones", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    expect(replaceCatalogSection(readme, renderCatalogMarkdown(connectorCatalog))).toBe(readme)
  })
})
