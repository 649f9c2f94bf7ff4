/**
 * Outbound connector runs through a TestApp (real PostgreSQL, the real Kafka
 * broker, a fake Amazon SP-API): events on Kafka become runs on the webhook
 * delivery machinery — success, throttling → retry table, rejection → dead
 * letter, re-consumed events.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import {
  amazonFake,
  amazonSettings,
  attemptErrors,
  connectorDeliveries,
  createConfig,
  MARKETPLACE,
  productUpdated,
  publishEvents,
  putCredentials,
  SELLER,
  syncLog,
  uniqueStore
} from "./frameworkHelpers.ts"
import { type FakeRequest, json } from "./fakeServer.ts"

const prefix = `connfwo-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.catalog`

const acceptedListing = (request: FakeRequest) =>
  json(200, { sku: decodeURIComponent(request.path.split("/").pop()!), status: "ACCEPTED", submissionId: "s-1", issues: [] })

/**
 * The connector lane's poller has claimed due runs since this point: a marker run of a config of
 * its own (a 503 first: FAILED, on the retry table), made due by hand, has been delivered. Only
 * the poller claims such a run (no signal), and one poll claims every due run: a run that was due,
 * or claimable when it should not be, would have been attempted by then too.
 */
const retryPollPassed = Effect.gen(function*() {
  const storeId = uniqueStore("marker")
  const marker = yield* amazonFake
  marker.listings = () => json(503, { errors: [{ code: "ServiceUnavailable", message: "Try again later." }] })
  const config = yield* createConfig(storeId, { settings: amazonSettings(marker), eventSubscriptions: ["product.updated"] })
  yield* putCredentials(storeId, config.id)
  yield* publishEvents(topic, [productUpdated(storeId)])
  const [failed] = yield* eventually(
    connectorDeliveries(config.id),
    (rows) => rows.length === 1 && rows[0]!.status === "FAILED" && rows[0]!.lease_expires_at === null,
    "20 seconds"
  )
  marker.listings = acceptedListing
  yield* Effect.flatMap(SqlClient, (sql) =>
    sql`UPDATE webhook_deliveries SET next_retry_at = now() WHERE delivery_id = ${failed!.delivery_id}::uuid`).pipe(Effect.orDie)
  yield* eventually(connectorDeliveries(config.id), (rows) => rows[0]!.status === "DELIVERED", "20 seconds")
  expect(marker.listingRequests()).toHaveLength(2)
  expect(marker.errors).toEqual([])
})

describe("connector framework: outbound runs (real PostgreSQL and Kafka, fake Amazon SP-API)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 90_000
  })((it) => {
    // -------------------------------------------------------------------------------------------
    // Outbound

    it.scoped("product.updated on Kafka reaches the marketplace as a Listings Items PUT; OUTBOUND SUCCEEDED in the sync log", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { settings: amazonSettings(fake), eventSubscriptions: ["product.updated"] })
        yield* putCredentials(storeId, config.id)

        const event = productUpdated(storeId, { sku: "SKU-FW-1", title: "Trail Runner 3" })
        yield* publishEvents(topic, [event])

        const [put] = yield* eventually(Effect.sync(() => fake.listingRequests()), (r) => r.length >= 1, "20 seconds")
        expect(put!.method).toBe("PUT")
        expect(put!.path).toBe(`/listings/2021-08-01/items/${SELLER}/SKU-FW-1`)
        expect(Object.fromEntries(put!.query)).toEqual({ marketplaceIds: MARKETPLACE })
        expect(put!.headers["content-type"]).toBe("application/json")
        expect(put!.headers["x-amz-access-token"]).toMatch(/^Atza\|framework-\d+$/)
        const body = put!.json as any
        expect(Object.keys(body).sort()).toEqual(["attributes", "productType", "requirements"])
        expect(body.productType).toBe("PRODUCT")
        expect(body.requirements).toBe("LISTING")
        expect(body.attributes.item_name).toEqual([{ value: "Trail Runner 3", language_tag: "en_US", marketplace_id: MARKETPLACE }])
        expect(body.attributes.purchasable_offer[0]).toMatchObject({ marketplace_id: MARKETPLACE, currency: "USD" })
        expect(body.attributes.fulfillment_availability).toEqual([{ fulfillment_channel_code: "DEFAULT", quantity: 7 }])

        const log = yield* eventually(syncLog(storeId, config.id), (items) => items.some((i) => i.direction === "OUTBOUND"))
        const outbound = log.filter((i) => i.direction === "OUTBOUND")
        expect(outbound).toHaveLength(1)
        expect(outbound[0]).toMatchObject({
          configId: config.id,
          direction: "OUTBOUND",
          entityType: "listing",
          recordCount: 1,
          status: "SUCCEEDED",
          errorSummary: null
        })
        expect(outbound[0]!.finishedAt).not.toBeNull()
        const [row] = yield* connectorDeliveries(config.id)
        expect(row).toMatchObject({ event_id: event.eventId, status: "DELIVERED", attempt_number: 1, next_retry_at: null })
        // The fake saw the LWA grant with the stored credentials once (the token is cached for the next runs).
        expect(fake.requests.filter((r) => r.path === "/auth/o2/token").length).toBeGreaterThanOrEqual(1)
        expect(fake.errors).toEqual([])
      }))

    it.scoped("a marketplace answering 429 every time: the run FAILED, on the retry table (+1 min), FAILED in the sync log; then it succeeds", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        fake.listings = () =>
          json(429, { errors: [{ code: "QuotaExceeded", message: "You exceeded your quota for the requested resource." }] })
        const config = yield* createConfig(storeId, { settings: amazonSettings(fake), eventSubscriptions: ["product.updated"] })
        yield* putCredentials(storeId, config.id)
        const event = productUpdated(storeId)
        yield* publishEvents(topic, [event])

        const [row] = yield* eventually(
          connectorDeliveries(config.id),
          (rows) => rows.length === 1 && rows[0]!.status !== "PENDING",
          "40 seconds"
        )
        expect(row).toMatchObject({ event_id: event.eventId, status: "FAILED", attempt_number: 1, lease_expires_at: null })
        // The retry table's first delay after a failed attempt: 1 minute.
        const delay = (row!.next_retry_at!.getTime() - row!.updated_at.getTime()) / 1000
        expect(delay).toBeCloseTo(60, 0)
        const fromNow = (row!.next_retry_at!.getTime() - Date.now()) / 1000
        expect(fromNow).toBeGreaterThan(45)
        expect(fromNow).toBeLessThanOrEqual(61)
        // Within the run, the throttled call was retried with backoff (1 + 4 retries), then given up.
        const throttledCalls = fake.listingRequests().length
        expect(throttledCalls).toBe(5)

        const log = yield* eventually(syncLog(storeId, config.id), (items) => items.some((i) => i.direction === "OUTBOUND"))
        const outbound = log.filter((i) => i.direction === "OUTBOUND")
        expect(outbound).toHaveLength(1)
        expect(outbound[0]).toMatchObject({ direction: "OUTBOUND", status: "FAILED", recordCount: 0, entityType: "product" })
        expect(outbound[0]!.errorSummary).toContain("Throttled")
        expect(outbound[0]!.errorSummary).toContain("You exceeded your quota for the requested resource.")
        const [attempt] = yield* attemptErrors(row!.delivery_id)
        expect(attempt!.error).toContain("QuotaExceeded")

        // Not due yet: no further attempt, also not by a poll for due runs since.
        yield* retryPollPassed
        expect(fake.listingRequests().length).toBe(throttledCalls)
        expect((yield* connectorDeliveries(config.id)).map((r) => [r.status, r.attempt_number])).toEqual([["FAILED", 1]])

        // "Time moves": the retry is due; the marketplace has recovered.
        fake.listings = acceptedListing
        yield* Effect.flatMap(SqlClient, (sql) =>
          sql`UPDATE webhook_deliveries SET next_retry_at = now() WHERE delivery_id = ${row!.delivery_id}::uuid`).pipe(Effect.orDie)
        const [done] = yield* eventually(connectorDeliveries(config.id), (rows) => rows[0]!.status === "DELIVERED")
        expect(done!.attempt_number).toBe(2)
        const after = (yield* syncLog(storeId, config.id)).filter((i) => i.direction === "OUTBOUND")
        expect(after.map((i) => i.status)).toEqual(["SUCCEEDED", "FAILED"])
        expect(after[0]).toMatchObject({ entityType: "listing", recordCount: 1, errorSummary: null })
      }))

    it.scoped("a 400 with the marketplace's message is dead-lettered at once, with that message in the sync log", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        fake.listings = () =>
          json(400, {
            errors: [{ code: "InvalidInput", message: "Value for 'item_name' exceeds 200 characters", details: "item_name" }]
          })
        const config = yield* createConfig(storeId, { settings: amazonSettings(fake), eventSubscriptions: ["product.updated"] })
        yield* putCredentials(storeId, config.id)
        yield* publishEvents(topic, [productUpdated(storeId)])

        const [row] = yield* eventually(
          connectorDeliveries(config.id),
          (rows) => rows.length === 1 && rows[0]!.status !== "PENDING",
          "20 seconds"
        )
        expect(row).toMatchObject({ status: "DEAD_LETTERED", attempt_number: 1, next_retry_at: null })
        expect(fake.listingRequests()).toHaveLength(1)
        const log = yield* eventually(syncLog(storeId, config.id), (items) => items.some((i) => i.direction === "OUTBOUND"))
        const outbound = log.filter((i) => i.direction === "OUTBOUND")
        expect(outbound).toHaveLength(1)
        expect(outbound[0]!.status).toBe("FAILED")
        expect(outbound[0]!.errorSummary).toContain("HTTP 400")
        expect(outbound[0]!.errorSummary).toContain("Value for 'item_name' exceeds 200 characters")
        // Not retried, also not by a poll for due runs since.
        yield* retryPollPassed
        expect(fake.listingRequests()).toHaveLength(1)
        expect((yield* connectorDeliveries(config.id)).map((r) => [r.status, r.attempt_number])).toEqual([["DEAD_LETTERED", 1]])
      }))

    it.scoped("the same event consumed twice is one run; other stores' events and unsubscribed types none", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { settings: amazonSettings(fake), eventSubscriptions: ["product.updated"] })
        yield* putCredentials(storeId, config.id)
        const event = productUpdated(storeId)
        yield* publishEvents(topic, [event, event])
        yield* publishEvents(topic, [event])
        // Not for this config: another store (on this store's partition, so the sentinel comes after
        // it too), an event type it does not subscribe to.
        yield* publishEvents(topic, [productUpdated(uniqueStore("other"))], storeId)
        yield* publishEvents(topic, [{ ...productUpdated(storeId), eventType: "inventory.updated" }])
        // A sentinel last, on the same partition (same key): once its run is DELIVERED, every event
        // before it has been taken in, and a second run of any of them would be there.
        const sentinel = productUpdated(storeId, { sku: "SKU-SENTINEL" })
        yield* publishEvents(topic, [sentinel])

        const rows = yield* eventually(
          connectorDeliveries(config.id),
          (found) => found.some((r) => r.event_id === sentinel.eventId) && found.every((r) => r.status === "DELIVERED"),
          "20 seconds"
        )
        // The two runs may go out in either order (the lane attempts runs concurrently).
        expect(rows.map((r) => [r.event_id, r.status]).sort()).toEqual(
          [[event.eventId, "DELIVERED"], [sentinel.eventId, "DELIVERED"]].sort()
        )
        const skus = fake.listingRequests().map((r) => decodeURIComponent(r.path.split("/").pop()!))
        expect(skus.sort()).toEqual([event.data.sku, "SKU-SENTINEL"].sort())
        const outbound = yield* eventually(
          Effect.map(syncLog(storeId, config.id), (items) => items.filter((i) => i.direction === "OUTBOUND")),
          (items) => items.length >= 2
        )
        expect(outbound).toHaveLength(2)
      }))

  })
})
