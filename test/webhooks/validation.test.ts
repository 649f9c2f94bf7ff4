/**
 * Every bad input to the webhook admin API is a 400 `{error: "invalid_request",
 * message}` whose message names the field.
 *
 * KNOWN BUGS outside the files these tests cover, each written as the test of
 * the correct behaviour and marked `.fails` (the convention of knownBugs.test.ts):
 * when one is fixed its test starts to "fail": drop the `.fails`.
 *
 * 1. errorBodies.ts: a body that is not JSON (`{not json`) gets a 400 with an
 *    EMPTY body: UniformDecodeErrors only rewrites HttpApiDecodeError, and the
 *    platform fails with HttpServerError.RequestError (reason "Decode") before
 *    the schema runs. Fix: also map a RequestError whose reason is "Decode" to
 *    400 {error: "invalid_request", message: "the request body is not valid JSON", fields: []}.
 * 2. HttpApiLive.ts: the router (find-my-way) has maxParamLength 100, so a
 *    store id of 101..128 characters, valid by the StoreId schema, gets a
 *    bodiless 404 on every route (and a 129-character one a 404, not the 400).
 *    Fix: `Layer.provide(HttpRouter.setRouterConfig({ maxParamLength: 256 }))`
 *    on the served API (checked: 101 and 128 are then served, 129 is a 400), or
 *    cap StoreId at 100.
 * 3. DeliveriesRepo.ts: a cursor that decodes to [<not a timestamp>, <uuid>]
 *    reaches SQL as `${ts}::timestamptz` and is a 500 ("garbage"), or is taken
 *    as a real position ("now", "infinity"). Fix: in `Cursor`, check the
 *    timestamp has the shape the API emits, e.g.
 *    Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
 *    Schema.filter((s) => !Number.isNaN(Date.parse(s)))).
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Encoding, Option } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, adminToken, TestApp } from "../support/app.ts"
import { createSubscription, insertDelivery, newStoreId, rawFetch, subscriptionRow, vaultSecret } from "./adminApiHelpers.ts"

const prefix = `validation-${randomUUID().slice(0, 8)}`

/**
 * A 400 `{error: "invalid_request", message}` whose message names `field`
 * (and, when the body lists the offending fields, lists it there too).
 */
const expectInvalid = (
  response: { readonly status: number; readonly body: any },
  field: string,
  what: string
) => {
  expect(response.status, `${what}: ${JSON.stringify(response.body)}`).toBe(400)
  expect(response.body, what).toMatchObject({ error: "invalid_request", message: expect.any(String) })
  expect(response.body.message, what).toMatch(new RegExp(`(^|[^A-Za-z])${field.replace(".", "\\.")}([^A-Za-z]|$)`))
  if (response.body.fields !== undefined) expect(response.body.fields, what).toContain(field)
}

const sendCreate = (storeId: string, body: string) =>
  rawFetch(`/stores/${storeId}/webhooks`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body
  })

const valid = { name: "orders", targetUrl: "https://hooks.example.com/ss3", events: ["order.placed"] }

/** Bodies of a create that must be refused, and the field the answer must name. */
const badCreates: ReadonlyArray<readonly [string, string, unknown]> = [
  ["empty name", "name", { ...valid, name: "" }],
  ["blank name", "name", { ...valid, name: "  \t " }],
  ["missing name", "name", { targetUrl: valid.targetUrl, events: valid.events }],
  ["name too long", "name", { ...valid, name: "x".repeat(201) }],
  ["name of the wrong type", "name", { ...valid, name: 42 }],
  ["missing targetUrl", "targetUrl", { name: "x", events: valid.events }],
  ["targetUrl null", "targetUrl", { ...valid, targetUrl: null }],
  ["targetUrl of the wrong type", "targetUrl", { ...valid, targetUrl: 7 }],
  ["targetUrl not a URL", "targetUrl", { ...valid, targetUrl: "hooks.example.com/ss3" }],
  ["targetUrl empty", "targetUrl", { ...valid, targetUrl: "" }],
  ["targetUrl ftp", "targetUrl", { ...valid, targetUrl: "ftp://hooks.example.com/ss3" }],
  ["targetUrl javascript:", "targetUrl", { ...valid, targetUrl: "javascript:alert(1)" }],
  ["targetUrl file:", "targetUrl", { ...valid, targetUrl: "file:///etc/passwd" }],
  ["targetUrl with user and password", "targetUrl", { ...valid, targetUrl: "https://user:pass@hooks.example.com/ss3" }],
  ["targetUrl with a user only", "targetUrl", { ...valid, targetUrl: "https://token@hooks.example.com/ss3" }],
  ["targetUrl too long", "targetUrl", { ...valid, targetUrl: `https://hooks.example.com/${"a".repeat(2100)}` }],
  ["missing events", "events", { name: "x", targetUrl: valid.targetUrl }],
  ["empty events", "events", { ...valid, events: [] }],
  ["events not an array", "events", { ...valid, events: "order.placed" }],
  ["an event type that is not a string", "events.0", { ...valid, events: [1] }],
  ["a malformed event type", "events.1", { ...valid, events: ["order.placed", "Order Placed"] }],
  ["an event type without a dot", "events.0", { ...valid, events: ["order"] }],
  ["an event type with a wildcard part", "events.0", { ...valid, events: ["order.*"] }],
  ["isActive of the wrong type", "isActive", { ...valid, isActive: "yes" }],
  ["isActive null", "isActive", { ...valid, isActive: null }]
]

const badPatches: ReadonlyArray<readonly [string, string, unknown]> = [
  ["empty name", "name", { name: "" }],
  ["blank name", "name", { name: "   " }],
  ["name null", "name", { name: null }],
  ["targetUrl not a URL", "targetUrl", { targetUrl: "not a url" }],
  ["targetUrl ftp", "targetUrl", { targetUrl: "ftp://hooks.example.com/" }],
  ["targetUrl with credentials", "targetUrl", { targetUrl: "https://a:b@hooks.example.com/" }],
  ["targetUrl of the wrong type", "targetUrl", { targetUrl: ["https://hooks.example.com/"] }],
  ["empty events", "events", { events: [] }],
  ["a malformed event type", "events.0", { events: ["ORDER.PLACED"] }],
  ["isActive of the wrong type", "isActive", { isActive: 1 }]
]

describe("webhook admin API input validation", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("create: every bad field is a 400 naming it, and nothing is stored", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const [what, field, body] of badCreates) {
          const response = yield* adminFetch(`/stores/${storeId}/webhooks`, { method: "POST", body })
          expectInvalid(response, field, what)
        }
        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.body.items).toEqual([])
      }))

    it.effect("create: a body that is JSON but not an object is a 400", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const body of ["\"a string\"", "null", "[]", "42", ""]) {
          const response = yield* sendCreate(storeId, body)
          expect(response.status, `body ${JSON.stringify(body)}`).toBe(400)
          expect(response.body, `body ${JSON.stringify(body)}`).toMatchObject({ error: "invalid_request", message: expect.any(String) })
        }
        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.body.items).toEqual([])
      }))

    // KNOWN BUG (errorBodies.ts): see the top of this file, 1.
    it.effect("create: a body that is not JSON at all is a 400 with the API's error body", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const body of ["{not json", "{\"name\": \"x\",}"]) {
          const response = yield* sendCreate(storeId, body)
          expect(response.status, `body ${JSON.stringify(body)}`).toBe(400)
          expect(response.body, `body ${JSON.stringify(body)}`).toMatchObject({ error: "invalid_request", message: expect.any(String) })
        }
      }))

    it.effect("update: every bad field is a 400 naming it, and the subscription is unchanged", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId)
        const before = yield* subscriptionRow(created.id)
        for (const [what, field, body] of badPatches) {
          const response = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`, { method: "PATCH", body })
          expectInvalid(response, field, what)
        }
        expect(yield* subscriptionRow(created.id)).toEqual(before)
      }))

    it.effect("a path id that is not a UUID is a 400 naming it, on every route that takes one", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId)
        for (const id of ["not-a-uuid", "123", `${randomUUID()}x`, "'%20OR%201=1"]) {
          const routes = [
            ["GET", `/stores/${storeId}/webhooks/${id}`],
            ["PATCH", `/stores/${storeId}/webhooks/${id}`],
            ["DELETE", `/stores/${storeId}/webhooks/${id}`],
            ["POST", `/stores/${storeId}/webhooks/${id}/secret/rotate`],
            ["GET", `/stores/${storeId}/deliveries/${id}`],
            ["POST", `/stores/${storeId}/deliveries/${id}/retry`]
          ] as const
          for (const [method, path] of routes) {
            const response = yield* adminFetch(path, { method, ...(method === "PATCH" ? { body: { name: "x" } } : {}) })
            expectInvalid(response, "id", `${method} ${path}`)
          }
        }
        expect(yield* subscriptionRow(created.id)).toMatchObject({ name: created.name, secret_version: 1 })
        expect(yield* vaultSecret(created.id)).toEqual(Option.some(created.signingSecret))
      }))

    it.effect("a store id that is not one is a 400 naming it", () =>
      Effect.gen(function*() {
        for (const storeId of ["bad%20store", "-leading-dash", "store%2Fslash", "x".repeat(99) + "!"]) {
          expectInvalid(yield* adminFetch(`/stores/${storeId}/webhooks`), "storeId", storeId)
          expectInvalid(
            yield* adminFetch(`/stores/${storeId}/webhooks`, { method: "POST", body: valid }),
            "storeId",
            storeId
          )
          expectInvalid(yield* adminFetch(`/stores/${storeId}/deliveries`), "storeId", storeId)
        }
      }))

    // KNOWN BUG (HttpApiLive.ts): see the top of this file, 2.
    it.effect("a store id of the longest valid length (128 characters) is served; one longer is a 400", () =>
      Effect.gen(function*() {
        const storeId = `long-${randomUUID()}-`.padEnd(128, "x")
        expect(storeId).toHaveLength(128)
        const created = yield* adminFetch(`/stores/${storeId}/webhooks`, { method: "POST", body: valid })
        expect(created.status, JSON.stringify(created.body)).toBe(201)
        expect(created.body.storeId).toBe(storeId)
        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.status).toBe(200)
        expect(listed.body.items.map((s: any) => s.id)).toEqual([created.body.id])
        expect((yield* adminFetch(`/stores/${storeId}/webhooks/${created.body.id}`)).status).toBe(200)
        expect((yield* adminFetch(`/stores/${storeId}/deliveries`)).status).toBe(200)
        expectInvalid(yield* adminFetch(`/stores/${"x".repeat(129)}/webhooks`), "storeId", "129 characters")
      }))

    it.effect("deliveries list: a bad limit, status, subscriptionId is a 400 naming it", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const list = (query: string) => adminFetch(`/stores/${storeId}/deliveries?${query}`)
        for (const limit of ["abc", "0", "-1", "1.5", "201", "1000", "", "NaN", "Infinity"]) {
          expectInvalid(yield* list(`limit=${limit}`), "limit", `limit=${limit}`)
        }
        expectInvalid(yield* list("status=NOPE"), "status", "status=NOPE")
        expectInvalid(yield* list("status=delivered"), "status", "status=delivered")
        expectInvalid(yield* list("subscriptionId=nope"), "subscriptionId", "subscriptionId=nope")

        // The bounds themselves are fine.
        expect((yield* list("limit=1")).status).toBe(200)
        expect((yield* list("limit=200")).status).toBe(200)
      }))

    it.effect("deliveries list: a cursor this API did not hand out is a 400 naming it", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId)
        yield* insertDelivery({ subscriptionId: created.id, storeId })
        yield* insertDelivery({ subscriptionId: created.id, storeId })
        const list = (cursor: string) => adminFetch(`/stores/${storeId}/deliveries?limit=1&cursor=${encodeURIComponent(cursor)}`)

        // A real one works ...
        const first = yield* adminFetch(`/stores/${storeId}/deliveries?limit=1`)
        expect(first.body.nextCursor).toEqual(expect.any(String))
        expect((yield* list(first.body.nextCursor)).status).toBe(200)

        // ... and anything else does not.
        const b64 = (value: unknown) => Encoding.encodeBase64Url(JSON.stringify(value))
        const bad: ReadonlyArray<readonly [string, string]> = [
          ["not base64", "!!!"],
          ["empty", ""],
          ["base64 of not JSON", Encoding.encodeBase64Url("hello")],
          ["a JSON object", b64({ ts: "2024-01-01T00:00:00Z", id: randomUUID() })],
          ["a tuple with a bad id", b64(["2024-01-01T00:00:00.000000Z", "x"])],
          ["a tuple with one element", b64([randomUUID()])],
          ["the cursor, truncated", first.body.nextCursor.slice(0, 10)]
        ]
        for (const [what, cursor] of bad) {
          expectInvalid(yield* list(cursor), "cursor", what)
        }
      }))

    // KNOWN BUG (DeliveriesRepo.ts): see the top of this file, 3.
    it.effect("deliveries list: a cursor whose timestamp is garbage is a 400, not a 500", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const ts of ["garbage", "2024-13-45T99:99:99Z", "", "now", "infinity"]) {
          const cursor = Encoding.encodeBase64Url(JSON.stringify([ts, randomUUID()]))
          expectInvalid(yield* adminFetch(`/stores/${storeId}/deliveries?cursor=${cursor}`), "cursor", `timestamp ${ts}`)
        }
      }))

    it.effect("bulk retry: a bad status, since or subscriptionId is a 400 naming it", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const retry = (body: unknown) => adminFetch(`/stores/${storeId}/deliveries/retry`, { method: "POST", body })
        expectInvalid(yield* retry({ status: "DELIVERED" }), "status", "status DELIVERED")
        expectInvalid(yield* retry({ status: "PENDING" }), "status", "status PENDING")
        expectInvalid(yield* retry({ since: "yesterday" }), "since", "since yesterday")
        expectInvalid(yield* retry({ subscriptionId: "nope" }), "subscriptionId", "subscriptionId nope")
        const ok = yield* retry({})
        expect(ok.status).toBe(202)
        expect(ok.body).toEqual({ retried: 0 })
      }))
  })
})
