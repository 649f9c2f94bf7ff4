/**
 * The connector framework through the admin API of a TestApp, on real
 * PostgreSQL (a database of its own) and the real Kafka broker, with a fake
 * Amazon SP-API (frameworkHelpers.ts): config CRUD and validation, store
 * isolation, credentials in Vault.
 *
 * Outbound runs: frameworkOutbound.test.ts; polls: frameworkInbound.test.ts;
 * two instances and restarts: frameworkInstances.test.ts.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { Vault } from "../../src/services/Vault.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import {
  amazonFake,
  amazonSettings,
  createConfig,
  CREDENTIALS,
  MARKETPLACE,
  pollNow,
  pollState,
  putCredentials,
  SELLER,
  syncLog,
  uniqueStore
} from "./frameworkHelpers.ts"

const prefix = `connfwc-${randomUUID().slice(0, 8)}`
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

describe("connector framework: configs (real PostgreSQL and Kafka, fake Amazon SP-API)", () => {
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

  })
})
