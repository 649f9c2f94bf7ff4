/**
 * The connector framework through the admin API of a TestApp, on real
 * PostgreSQL (a database of its own) and the real Kafka broker, with a fake
 * Amazon SP-API (frameworkHelpers.ts): config CRUD and validation, store
 * isolation, credentials in Vault, outbound runs on the webhook delivery
 * machinery (success, throttling → retry table, rejection → dead letter,
 * re-consumed events), inbound polls published to `connector.order.imported`
 * exactly once per change, and the poll fibers following config changes.
 *
 * Two instances and restarts: frameworkInstances.test.ts.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Option, Redacted, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { Vault } from "../../src/services/Vault.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import {
  amazonFake,
  amazonSettings,
  attemptErrors,
  changeKeys,
  connectorDeliveries,
  createConfig,
  CREDENTIALS,
  importedTopic,
  MARKETPLACE,
  order,
  pollNow,
  pollState,
  productUpdated,
  publishEvents,
  putCredentials,
  SELLER,
  syncLog,
  tapImported,
  uniqueStore
} from "./frameworkHelpers.ts"
import { json } from "./fakeServer.ts"

const prefix = `connfw-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.catalog`
const secretPath = (id: string) => `integration-service/connector/${id}`

const readSecret = (id: string) =>
  Effect.flatMap(Vault, (vault) => vault.read(secretPath(id))).pipe(
    Effect.orDie,
    Effect.map(Option.map((data) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Redacted.value(v)]))))
  )

/** No response body of a connector route may carry a credential. */
const expectNoSecrets = (body: unknown) => {
  const text = JSON.stringify(body ?? null)
  for (const secret of [CREDENTIALS.apiKey, CREDENTIALS.apiSecret, CREDENTIALS.refreshToken]) {
    expect(text).not.toContain(secret)
  }
}

describe("connector framework (real PostgreSQL and Kafka, fake Amazon SP-API)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 90_000
  })((it) => {
    // -------------------------------------------------------------------------------------------
    // Configs

    it.scoped("create validates settings per connector type, the type and the event subscriptions (400 naming the field)", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const post = (body: Record<string, unknown>) =>
          adminFetch(`/stores/${storeId}/connectors`, {
            method: "POST",
            body: { displayName: "Amazon US", connectorType: "amazon", isActive: false, ...body }
          })
        const expect400 = (body: Record<string, unknown>, field: string) =>
          Effect.gen(function*() {
            const response = yield* post(body)
            expect(response.status, `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`).toBe(400)
            expect(response.body.error).toBe("invalid_request")
            expect(response.body.message).toContain(field)
          })

        yield* expect400({ settings: {} }, "settings.sellerId")
        yield* expect400({}, "settings.sellerId")
        yield* expect400({ settings: { sellerId: "not a seller!" } }, "settings.sellerId")
        yield* expect400({ settings: { sellerId: SELLER, pollIntervalSeconds: 5 } }, "settings.pollIntervalSeconds")
        yield* expect400({ settings: { sellerId: SELLER, pollIntervalSeconds: "60" } }, "settings.pollIntervalSeconds")
        yield* expect400({ settings: { sellerId: SELLER, baseUrl: "ftp://example.com" } }, "settings.baseUrl")
        yield* expect400({ settings: { sellerId: SELLER, marketplaceId: "x y" } }, "settings.marketplaceId")
        // Every setting of the type is checked: google-shopping needs its own fields.
        yield* expect400({ connectorType: "google-shopping", settings: { sellerId: SELLER } }, "settings.accountId")
        yield* expect400({ connectorType: "google-shopping", settings: { accountId: "123", dataSourceId: "bad id!" } }, "settings.dataSourceId")

        yield* expect400({ connectorType: "shopify", settings: { sellerId: SELLER } }, "connectorType")
        yield* expect400({ settings: { sellerId: SELLER }, eventSubscriptions: ["order.placed"] }, "eventSubscriptions")
        yield* expect400({ connectorType: "google-shopping", settings: { accountId: "123", dataSourceId: "ds1" }, eventSubscriptions: ["inventory.updated"] }, "eventSubscriptions")
        yield* expect400({ connectorType: "ebay", eventSubscriptions: ["order.fulfilled"] }, "eventSubscriptions")
        yield* expect400({ settings: { sellerId: SELLER }, displayName: "  " }, "displayName")

        // Nothing was stored by any of them.
        const list = yield* adminFetch(`/stores/${storeId}/connectors`)
        expect(list.status).toBe(200)
        expect(list.body.items).toEqual([])
      }))

    it.scoped("create (201, defaults filled in), list, show, update, delete (204, Vault secret removed)", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const created = yield* createConfig(storeId, {
          displayName: "Amazon US",
          isActive: false,
          eventSubscriptions: ["product.updated", "inventory.updated", "product.updated"],
          settings: { sellerId: SELLER, pollIntervalSeconds: 120 }
        })
        expect(created).toMatchObject({
          storeId,
          connectorType: "amazon",
          displayName: "Amazon US",
          isActive: false,
          eventSubscriptions: ["product.updated", "inventory.updated"],
          hasCredentials: false,
          settings: {
            sellerId: SELLER,
            marketplaceId: MARKETPLACE,
            productType: "PRODUCT",
            languageTag: "en_US",
            baseUrl: "https://sellingpartnerapi-na.amazon.com",
            tokenUrl: "https://api.amazon.com/auth/o2/token",
            pollIntervalSeconds: 120
          }
        })
        expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
        const second = yield* createConfig(storeId, {
          connectorType: "google-shopping",
          isActive: false,
          eventSubscriptions: ["product.updated"],
          settings: { accountId: "1234567", dataSourceId: "ds-1" }
        })

        const list = yield* adminFetch(`/stores/${storeId}/connectors`)
        expect(list.status).toBe(200)
        expect(list.body.items.map((c: any) => c.id).sort()).toEqual([created.id, second.id].sort())

        const shown = yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`)
        expect(shown.status).toBe(200)
        expect(shown.body).toEqual(created)

        const patched = yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`, {
          method: "PATCH",
          body: { displayName: "Amazon United States", eventSubscriptions: ["order.fulfilled"] }
        })
        expect(patched.status, JSON.stringify(patched.body)).toBe(200)
        expect(patched.body).toMatchObject({
          id: created.id,
          displayName: "Amazon United States",
          eventSubscriptions: ["order.fulfilled"],
          isActive: false,
          settings: created.settings
        })
        expect(Date.parse(patched.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt as string))

        // Settings are replaced as a whole and validated like on create.
        const badSettings = yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`, {
          method: "PATCH",
          body: { settings: { sellerId: SELLER, languageTag: "english" } }
        })
        expect(badSettings.status).toBe(400)
        expect(badSettings.body.message).toContain("settings.languageTag")
        const badEvents = yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`, {
          method: "PATCH",
          body: { eventSubscriptions: ["customer.created"] }
        })
        expect(badEvents.status).toBe(400)
        expect(badEvents.body.message).toContain("eventSubscriptions")
        const newSettings = yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`, {
          method: "PATCH",
          body: { settings: { sellerId: "A3OTHER", pollIntervalSeconds: 900 } }
        })
        expect(newSettings.status).toBe(200)
        expect(newSettings.body.settings).toMatchObject({ sellerId: "A3OTHER", pollIntervalSeconds: 900, marketplaceId: MARKETPLACE })
        expect((yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`)).body.displayName).toBe("Amazon United States")

        yield* putCredentials(storeId, created.id)
        expect(Option.isSome(yield* readSecret(created.id))).toBe(true)

        const deleted = yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`, { method: "DELETE" })
        expect(deleted.status).toBe(204)
        expect(deleted.body).toBeUndefined()
        expect(Option.isNone(yield* readSecret(created.id))).toBe(true)
        expect((yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`)).status).toBe(404)
        expect((yield* adminFetch(`/stores/${storeId}/connectors/${created.id}`, { method: "DELETE" })).status).toBe(404)
        expect((yield* adminFetch(`/stores/${storeId}/connectors/${created.id}/sync-log`)).status).toBe(404)
        expect((yield* adminFetch(`/stores/${storeId}/connectors`)).body.items.map((c: any) => c.id)).toEqual([second.id])

        const unknown = yield* adminFetch(`/stores/${storeId}/connectors/${randomUUID()}`)
        expect(unknown.status).toBe(404)
        expect(unknown.body.error).toBe("not_found")
        expect((yield* adminFetch(`/stores/${storeId}/connectors/not-a-uuid`)).status).toBe(400)
        // The admin token is required.
        expect((yield* adminFetch(`/stores/${storeId}/connectors`, { token: "wrong" })).status).toBe(401)
      }))

    it.scoped("PUT …/credentials writes api-key, api-secret, refresh-token to Vault; hasCredentials; no route returns them", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        expect(config.hasCredentials).toBe(false)
        expect(Option.isNone(yield* readSecret(config.id))).toBe(true)

        const incomplete = yield* adminFetch(`/stores/${storeId}/connectors/${config.id}/credentials`, {
          method: "PUT",
          body: { apiKey: CREDENTIALS.apiKey }
        })
        expect(incomplete.status).toBe(400)
        expect(incomplete.body.message).toContain("apiSecret")
        expect(Option.isNone(yield* readSecret(config.id))).toBe(true)

        const put = yield* adminFetch(`/stores/${storeId}/connectors/${config.id}/credentials`, { method: "PUT", body: CREDENTIALS })
        expect(put.status).toBe(204)
        expect(put.body).toBeUndefined()
        expect(yield* readSecret(config.id)).toEqual(Option.some({
          "api-key": CREDENTIALS.apiKey,
          "api-secret": CREDENTIALS.apiSecret,
          "refresh-token": CREDENTIALS.refreshToken
        }))

        // Every connector route's answer, none with a credential.
        const answers = [
          yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`),
          yield* adminFetch(`/stores/${storeId}/connectors`),
          yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { displayName: "renamed" } }),
          yield* pollNow(storeId, config.id),
          yield* adminFetch(`/stores/${storeId}/connectors/${config.id}/sync-log`),
          yield* adminFetch("/openapi.json")
        ]
        for (const answer of answers) {
          expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200)
          expectNoSecrets(answer.body)
        }
        expect(answers[0]!.body.hasCredentials).toBe(true)
        expect(answers[1]!.body.items[0].hasCredentials).toBe(true)
        // The poll used them (the fake checks the LWA grant): they reached the marketplace, not the API.
        expect(answers[3]!.body).toEqual({ status: "SUCCEEDED", recordCount: 0, error: null })

        // Replacing them: exactly the new keys (no refresh token given → none kept).
        yield* putCredentials(storeId, config.id, { apiKey: "k2", apiSecret: "s2" })
        expect(yield* readSecret(config.id)).toEqual(Option.some({ "api-key": "k2", "api-secret": "s2" }))
        expect(fake.errors).toEqual([])
      }))

    it.scoped("store isolation: another store gets 404 on every connector route and changes nothing", () =>
      Effect.gen(function*() {
        const storeA = uniqueStore("a")
        const storeB = uniqueStore("b")
        const fake = yield* amazonFake
        const config = yield* createConfig(storeA, { isActive: false, settings: amazonSettings(fake), eventSubscriptions: ["product.updated"] })
        yield* putCredentials(storeA, config.id)
        const before = (yield* adminFetch(`/stores/${storeA}/connectors/${config.id}`)).body
        const requestsBefore = fake.requests.length

        const asB = [
          yield* adminFetch(`/stores/${storeB}/connectors/${config.id}`),
          yield* adminFetch(`/stores/${storeB}/connectors/${config.id}`, { method: "PATCH", body: { displayName: "hijacked", isActive: true } }),
          yield* adminFetch(`/stores/${storeB}/connectors/${config.id}/credentials`, {
            method: "PUT",
            body: { apiKey: "evil", apiSecret: "evil", refreshToken: "evil" }
          }),
          yield* adminFetch(`/stores/${storeB}/connectors/${config.id}/sync-log`),
          yield* pollNow(storeB, config.id),
          yield* adminFetch(`/stores/${storeB}/connectors/${config.id}`, { method: "DELETE" })
        ]
        for (const answer of asB) {
          expect(answer.status, JSON.stringify(answer.body)).toBe(404)
          expect(answer.body.error).toBe("not_found")
        }
        expect((yield* adminFetch(`/stores/${storeB}/connectors`)).body.items).toEqual([])

        // A's config, its secret and its sync log are as they were; nothing was polled.
        expect((yield* adminFetch(`/stores/${storeA}/connectors/${config.id}`)).body).toEqual(before)
        expect(yield* readSecret(config.id)).toEqual(Option.some({
          "api-key": CREDENTIALS.apiKey,
          "api-secret": CREDENTIALS.apiSecret,
          "refresh-token": CREDENTIALS.refreshToken
        }))
        expect(yield* syncLog(storeA, config.id)).toEqual([])
        expect(fake.requests.length).toBe(requestsBefore)
        expect(yield* pollState(config.id)).toBeUndefined()
      }))

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

        // Not due yet: no further attempt.
        yield* Effect.sleep("1500 millis")
        expect(fake.listingRequests().length).toBe(throttledCalls)

        // "Time moves": the retry is due; the marketplace has recovered.
        fake.listings = (request) =>
          json(200, { sku: decodeURIComponent(request.path.split("/").pop()!), status: "ACCEPTED", submissionId: "s-1", issues: [] })
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
        // Not retried.
        yield* Effect.sleep("1500 millis")
        expect(fake.listingRequests()).toHaveLength(1)
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
        // Not for this config: another store, an event type it does not subscribe to.
        yield* publishEvents(topic, [productUpdated(uniqueStore("other"))])
        yield* publishEvents(topic, [{ ...productUpdated(storeId), eventType: "inventory.updated" }])

        yield* eventually(connectorDeliveries(config.id), (rows) => rows.some((r) => r.status === "DELIVERED"), "20 seconds")
        yield* Effect.sleep("2 seconds")
        const rows = yield* connectorDeliveries(config.id)
        expect(rows.map((r) => [r.event_id, r.status])).toEqual([[event.eventId, "DELIVERED"]])
        expect(fake.listingRequests()).toHaveLength(1)
        const outbound = (yield* syncLog(storeId, config.id)).filter((i) => i.direction === "OUTBOUND")
        expect(outbound).toHaveLength(1)
      }))

    // -------------------------------------------------------------------------------------------
    // Inbound

    it.scoped("polls publish imported orders to connector.order.imported in the SPEC envelope, each change exactly once", () =>
      Effect.gen(function*() {
        const tap = yield* tapImported
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        // Inactive: only the polls this test asks for (POST …/poll) run.
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        yield* putCredentials(storeId, config.id)
        const a1 = order("111-0000001-0000001", "2024-05-01T10:00:00Z")
        const b1 = order("111-0000002-0000002", "2024-05-01T10:05:00Z", "Pending")
        fake.orders = [a1, b1]

        const first = yield* pollNow(storeId, config.id)
        expect(first.status).toBe(200)
        expect(first.body).toEqual({ status: "SUCCEEDED", recordCount: 2, error: null })
        const published = yield* tap.waitFor(config.id, 2)
        expect(changeKeys(published)).toEqual([
          "111-0000001-0000001@2024-05-01T10:00:00Z",
          "111-0000002-0000002@2024-05-01T10:05:00Z"
        ])
        for (const message of published) {
          expect(message.topic).toBe(importedTopic)
          expect(message.key).toBe(storeId)
          expect(Object.keys(message.value).sort()).toEqual(["data", "eventId", "eventType", "occurredAt", "storeId"])
          const envelope = Schema.decodeUnknownSync(EventEnvelope)(message.value)
          expect(envelope.eventType).toBe(importedTopic)
          expect(envelope.storeId).toBe(storeId)
          expect(Date.parse(envelope.occurredAt)).not.toBeNaN()
        }
        expect(published[1]!.value.data).toEqual({
          configId: config.id,
          connectorType: "amazon",
          entityType: "order",
          externalOrderId: "111-0000002-0000002",
          status: "Pending",
          updatedAt: "2024-05-01T10:05:00Z",
          order: b1
        })
        expect(new Set(published.map((m) => m.value.eventId)).size).toBe(2)

        const cursor = (yield* pollState(config.id))!.cursor
        const [request1] = fake.ordersRequests()
        expect(cursor).toBe(request1!.query.get("LastUpdatedBefore"))

        // The next window starts at the stored cursor and, inclusive as Amazon's is, answers the
        // same orders again, with one of them changed since and a new one.
        const a2 = order("111-0000001-0000001", "2024-05-01T11:00:00Z", "Shipped")
        const c1 = order("111-0000003-0000003", "2024-05-01T11:30:00Z")
        fake.orders = [a1, b1, a2, c1]
        const second = yield* pollNow(storeId, config.id)
        expect(second.status).toBe(200)
        const request2 = fake.ordersRequests()[1]!
        expect(request2.query.get("LastUpdatedAfter")).toBe(cursor)
        const all = yield* tap.waitFor(config.id, 4)
        expect(changeKeys(all)).toEqual([
          "111-0000001-0000001@2024-05-01T10:00:00Z",
          "111-0000002-0000002@2024-05-01T10:05:00Z",
          "111-0000001-0000001@2024-05-01T11:00:00Z",
          "111-0000003-0000003@2024-05-01T11:30:00Z"
        ])
        expect(second.body).toEqual({ status: "SUCCEEDED", recordCount: 2, error: null })

        // Nothing new: nothing published.
        const third = yield* pollNow(storeId, config.id)
        expect(third.body).toEqual({ status: "SUCCEEDED", recordCount: 0, error: null })
        yield* Effect.sleep("1500 millis")
        expect(yield* tap.forConfig(config.id)).toHaveLength(4)

        const inbound = (yield* syncLog(storeId, config.id)).filter((i) => i.direction === "INBOUND")
        expect(inbound.map((i) => [i.status, i.entityType, i.recordCount])).toEqual([
          ["SUCCEEDED", "order", 0],
          ["SUCCEEDED", "order", 2],
          ["SUCCEEDED", "order", 2]
        ])
        expect(fake.errors).toEqual([])
      }))

    it.scoped("a failed poll is a FAILED INBOUND run and leaves the cursor where it was", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        // No credentials yet.
        const missing = yield* pollNow(storeId, config.id)
        expect(missing.status).toBe(200)
        expect(missing.body.status).toBe("FAILED")
        expect(missing.body.recordCount).toBe(0)
        expect(missing.body.error).toContain("credential api-key is not set")
        expect(fake.requests).toHaveLength(0)

        yield* putCredentials(storeId, config.id)
        fake.orders = [order("111-0000009-0000009", "2024-05-01T10:00:00Z")]
        expect((yield* pollNow(storeId, config.id)).body.status).toBe("SUCCEEDED")
        const cursor = (yield* pollState(config.id))!.cursor
        expect(cursor).not.toBeNull()

        fake.setHandler(() => json(400, { errors: [{ code: "InvalidInput", message: "Invalid MarketplaceIds" }] }))
        const rejected = yield* pollNow(storeId, config.id)
        expect(rejected.body.status).toBe("FAILED")
        expect(rejected.body.error).toContain("Invalid MarketplaceIds")
        expect((yield* pollState(config.id))!.cursor).toBe(cursor)

        const inbound = (yield* syncLog(storeId, config.id)).filter((i) => i.direction === "INBOUND")
        expect(inbound.map((i) => i.status)).toEqual(["FAILED", "SUCCEEDED", "FAILED"])
        expect(inbound[0]!.errorSummary).toContain("Invalid MarketplaceIds")
        expect(inbound[2]!.errorSummary).toContain("credential api-key is not set")
      }))

    it.scoped("POST …/poll is 409 while another instance holds the lease, 200 once it expired; 404 for unknown configs", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        yield* putCredentials(storeId, config.id)
        const sql = yield* SqlClient
        yield* sql`INSERT INTO connector_poll_state (config_id, lease_owner, lease_expires_at)
                   VALUES (${config.id}::uuid, 'instance-elsewhere', now() + interval '5 minutes')`.pipe(Effect.orDie)

        const busy = yield* pollNow(storeId, config.id)
        expect(busy.status).toBe(409)
        expect(busy.body.error).toBe("conflict")
        expect(fake.requests).toHaveLength(0)
        expect((yield* pollState(config.id))!.lease_owner).toBe("instance-elsewhere")

        // The other instance died: its lease runs out and this one takes over.
        yield* sql`UPDATE connector_poll_state SET lease_expires_at = now() - interval '1 second'
                   WHERE config_id = ${config.id}::uuid`.pipe(Effect.orDie)
        const taken = yield* pollNow(storeId, config.id)
        expect(taken.status).toBe(200)
        expect(taken.body.status).toBe("SUCCEEDED")
        const state = (yield* pollState(config.id))!
        expect(state.lease_owner).toMatch(/^instance-/)
        expect(state.lease_owner).not.toBe("instance-elsewhere")
        // The lease lasts the poll interval (60 s) plus a minute.
        expect(state.lease_seconds!).toBeGreaterThan(100)
        expect(state.lease_seconds!).toBeLessThanOrEqual(120)

        expect((yield* pollNow(storeId, randomUUID())).status).toBe(404)
      }))

    it.scoped("poll fibers follow config changes without a restart: create, credentials, deactivate, reactivate, delete", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const polls = () => fake.ordersRequests().length
        const waitPolls = (n: number) => eventually(Effect.sync(polls), (count) => count >= n, "8 seconds")
        /** Nothing more for longer than the supervisor's reconcile interval (5 s). */
        const expectNoPollFor = (ms: number) =>
          Effect.gen(function*() {
            const before = polls()
            yield* Effect.sleep(ms)
            expect(polls()).toBe(before)
          })

        // Active, 60 s interval, no credentials yet: polled at once (a FAILED run, nothing sent).
        const config = yield* createConfig(storeId, { settings: amazonSettings(fake, { pollIntervalSeconds: 60 }) })
        const failed = yield* eventually(syncLog(storeId, config.id), (items) => items.length >= 1, "8 seconds")
        expect(failed[0]).toMatchObject({ direction: "INBOUND", status: "FAILED" })
        expect(failed[0]!.errorSummary).toContain("credential api-key is not set")
        expect(fake.requests).toHaveLength(0)

        // Credentials: the poll fiber starts over with them and polls at once.
        yield* putCredentials(storeId, config.id)
        yield* waitPolls(1)
        // …and keeps its result: the cursor moved (the replaced fiber, stopping, did not take the lease away mid-poll).
        const state = (yield* eventually(pollState(config.id), (s) => s?.cursor != null, "8 seconds"))!
        expect(state.cursor).toBe(fake.ordersRequests()[0]!.query.get("LastUpdatedBefore"))
        expect(state.lease_owner).toMatch(/^instance-/)
        expect(state.lease_seconds!).toBeGreaterThan(100)
        // One fiber, one poll: the replaced fiber did not poll as well.
        yield* Effect.sleep("1500 millis")
        expect(polls()).toBe(1)

        // Deactivated: the fiber stops (and lets go of its lease); no poll, even after further changes.
        const off = yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { isActive: false } })
        expect(off.status).toBe(200)
        expect(off.body.isActive).toBe(false)
        yield* eventually(pollState(config.id), (s) => s?.lease_owner === null, "8 seconds")
        yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { displayName: "still off" } })
        yield* expectNoPollFor(6_000)

        // Reactivated: polled again at once.
        const on = yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { isActive: true } })
        expect(on.status).toBe(200)
        yield* waitPolls(2)
        yield* Effect.sleep("1500 millis")
        expect(polls()).toBe(2)
        // The lease is taken again by the new fiber.
        expect((yield* pollState(config.id))!.lease_owner).toMatch(/^instance-/)

        // Deleted: the fiber stops.
        expect((yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "DELETE" })).status).toBe(204)
        expect(yield* pollState(config.id)).toBeUndefined()
        yield* expectNoPollFor(6_000)
        expect(fake.errors).toEqual([])
      }))
  })
})
