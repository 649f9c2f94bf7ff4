import { describe, expect, it } from "@effect/vitest"
import { createTable } from "../src/migrations/createTable.ts"

// Applied migrations build their CREATE TABLE text with createTable and run it again on every
// new database: this pins the text to what migration 0002 first spelled out by hand.
describe("createTable", () => {
  it("lays a table out as the first migrations wrote it", () => {
    expect(createTable("webhook_delivery_attempts", [
      ["attempt_id", "UUID PRIMARY KEY"],
      ["delivery_id", "UUID NOT NULL REFERENCES webhook_deliveries (delivery_id) ON DELETE CASCADE"],
      ["error", "TEXT"]
    ])).toBe(`
    CREATE TABLE webhook_delivery_attempts (
      attempt_id  UUID PRIMARY KEY,
      delivery_id UUID NOT NULL REFERENCES webhook_deliveries (delivery_id) ON DELETE CASCADE,
      error       TEXT
    )`)
  })
})
