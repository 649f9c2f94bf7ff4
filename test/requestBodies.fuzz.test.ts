/**
 * Property test: whatever JSON (or not quite JSON) a client sends to a route
 * that takes a body, the answer is a 2xx or a 4xx with the API's error body,
 * never a 5xx — through the real HTTP server on real PostgreSQL, with the
 * hostile shapes mixed in: NUL and lone surrogates in keys and values, deep
 * nesting, unknown fields, wrong types, truncated text, big arrays.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { randomUUID } from "node:crypto"
import { Agent, request } from "undici"
import { adminFetch, adminToken, baseUrl, TestApp } from "./support/app.ts"
import { newStoreId } from "./credentials/helpers.ts"

const prefix = `bodies-fuzz-${randomUUID().slice(0, 8)}`
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 })

/** Any UTF-16 unit, lone surrogates and NUL included. */
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 })
const fieldNames = ["name", "targetUrl", "events", "isActive", "type", "scopes", "expiresAt", "connectorType", "displayName",
  "settings", "eventSubscriptions", "apiKey", "apiSecret", "refreshToken", "status", "since", "subscriptionId", "eventType", "storeId", "data"]

const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    anyText,
    fc.constantFrom("order.placed", "https://hooks.example.com/x", "API_KEY", "orders:read", "amazon", "FAILED", "2030-01-01T00:00:00Z"),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), anyText), tie("value"), { maxKeys: 5 })
  )
})).value

const deep = fc.integer({ min: 60, max: 3000 }).map((depth) => `${"[".repeat(depth)}1${"]".repeat(depth)}`)

const body = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), anyText), value, { maxKeys: 8 }).map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: value.map((v) => JSON.stringify(v) ?? "null") },
  { weight: 1, arbitrary: deep.map((nested) => `{"name":${nested}}`) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...fieldNames), value).map((o) => JSON.stringify(o).slice(0, -1)) },
  { weight: 1, arbitrary: fc.array(fc.constant({ a: 1 }), { minLength: 500, maxLength: 3000 }).map((items) => JSON.stringify({ events: items })) },
  { weight: 1, arbitrary: anyText }
)

describe("fuzzing request bodies (real PostgreSQL)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("every route with a body answers random bodies with 2xx or 4xx {error, message}, never 5xx", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const storeId = newStoreId()
        const subscription = yield* adminFetch(`/stores/${storeId}/webhooks`, {
          method: "POST",
          body: { name: "n", targetUrl: "https://hooks.example.com/x", events: ["order.placed"] }
        })
        const config = yield* adminFetch(`/stores/${storeId}/connectors`, {
          method: "POST",
          body: { connectorType: "amazon", displayName: "d", isActive: false, settings: { sellerId: "A1", baseUrl: "https://sp.example.com", tokenUrl: "https://lwa.example.com/t" } }
        })
        const routes = [
          ["POST", `/stores/${storeId}/webhooks`],
          ["PATCH", `/stores/${storeId}/webhooks/${subscription.body.id}`],
          ["POST", `/stores/${storeId}/deliveries/retry`],
          ["POST", `/stores/${storeId}/credentials`],
          ["POST", `/stores/${storeId}/connectors`],
          ["PATCH", `/stores/${storeId}/connectors/${config.body.id}`],
          ["PUT", `/stores/${storeId}/connectors/${config.body.id}/credentials`],
          ["POST", `/stores/${storeId}/connectors/${config.body.id}/runs/retry`],
          ["POST", "/dev/events"]
        ] as const
        const statuses = new Map<number, number>()
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.constantFrom(...routes), body, async ([method, path], text) => {
              const response = await request(`${base}${path}`, {
                dispatcher: agent,
                method,
                headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
                body: text,
                headersTimeout: 10_000,
                bodyTimeout: 10_000
              })
              const answer = await response.body.text()
              statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
              expect(response.statusCode, `${method} ${path} ${text.slice(0, 200)}: ${answer.slice(0, 300)}`).toBeLessThan(500)
              if (response.statusCode >= 400) {
                const parsed = JSON.parse(answer)
                expect(typeof parsed.error).toBe("string")
                expect(typeof parsed.message).toBe("string")
                expect(answer.length).toBeLessThan(8_000)
              }
            }),
            { numRuns: 1500 }
          )
        )
        console.log(`body fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
        expect(statuses.get(400) ?? 0).toBeGreaterThan(500)
      }), 180_000)
  })
})
