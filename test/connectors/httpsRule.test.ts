/**
 * Marketplace URLs in live mode (insecure targets not allowed): `http://` base
 * and token URLs are refused at the config API (400 naming each field), and a
 * config stored before the rule is refused before any request of a run — no
 * refresh token, client secret or signed JWT ever goes out in clear text.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { connectorSecretPath } from "../../src/programs/connectors/ConnectorRuntime.ts"
import { Vault } from "../../src/services/Vault.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import {
  amazonFake,
  amazonSettings,
  attemptErrors,
  connectorDeliveries,
  CREDENTIALS,
  pollNow,
  productUpdated,
  publishEvents,
  SELLER,
  syncLog,
  uniqueStore
} from "./frameworkHelpers.ts"

const prefix = `connhttps-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.catalog`

const create = (storeId: string, connectorType: string, settings: Record<string, unknown>) =>
  adminFetch(`/stores/${storeId}/connectors`, {
    method: "POST",
    body: { displayName: `${connectorType} https`, connectorType, eventSubscriptions: ["product.updated"], settings }
  })

describe("marketplace URLs must be https in live mode", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, allowInsecureTargets: false }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.scoped("the config API refuses http:// base and token URLs with a 400 naming each field", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const amazon = yield* create(storeId, "amazon", {
          sellerId: SELLER,
          baseUrl: "http://sellingpartnerapi-na.amazon.com",
          tokenUrl: "http://api.amazon.com/auth/o2/token"
        })
        expect(amazon.status).toBe(400)
        expect(amazon.body.error).toBe("invalid_request")
        expect(amazon.body.message).toContain("settings.baseUrl: must be an https URL")
        expect(amazon.body.message).toContain("settings.tokenUrl: must be an https URL")
        expect(amazon.body.message).toContain("WEBHOOK_ALLOW_INSECURE_TARGETS")

        const ebay = yield* create(storeId, "ebay", { baseUrl: "http://api.ebay.com" })
        expect(ebay.status).toBe(400)
        expect(ebay.body.message).toContain("settings.baseUrl")
        expect(ebay.body.message).not.toContain("settings.tokenUrl")

        const google = yield* create(storeId, "google-shopping", {
          accountId: "123",
          dataSourceId: "456",
          tokenUrl: "http://oauth2.googleapis.com/token"
        })
        expect(google.status).toBe(400)
        expect(google.body.message).toContain("settings.tokenUrl")

        // https (and the defaults, all https) are accepted; a PATCH to http is refused again.
        const fine = yield* create(storeId, "amazon", { sellerId: SELLER, baseUrl: "https://sandbox.sellingpartnerapi-na.amazon.com" })
        expect(fine.status, JSON.stringify(fine.body)).toBe(201)
        const patched = yield* adminFetch(`/stores/${storeId}/connectors/${fine.body.id}`, {
          method: "PATCH",
          body: { settings: { sellerId: SELLER, tokenUrl: "http://api.amazon.com/auth/o2/token" } }
        })
        expect(patched.status).toBe(400)
        expect(patched.body.message).toContain("settings.tokenUrl: must be an https URL")
        const list = yield* adminFetch(`/stores/${storeId}/connectors`)
        expect(list.body.items).toHaveLength(1)
        expect(list.body.items[0].settings.tokenUrl).toBe("https://api.amazon.com/auth/o2/token")
      }))

    it.scoped("a config stored before the rule fails its runs as Misconfigured before sending anything", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const sql = yield* SqlClient
        const vault = yield* Vault
        const id = randomUUID()
        const settings = { ...amazonSettings(fake), marketplaceId: "ATVPDKIKX0DER", productType: "PRODUCT", languageTag: "en_US" }
        yield* sql`INSERT INTO connector_configs
                     (config_id, store_id, connector_type, display_name, is_active, event_subscriptions, settings, credentials_version)
                   VALUES (${id}::uuid, ${storeId}, 'amazon', 'stored before the rule', true, ${["product.updated"]},
                           ${JSON.stringify(settings)}::jsonb, 1)`.pipe(Effect.orDie)
        yield* vault.write(connectorSecretPath(id), {
          "api-key": Redacted.make(CREDENTIALS.apiKey),
          "api-secret": Redacted.make(CREDENTIALS.apiSecret),
          "refresh-token": Redacted.make(CREDENTIALS.refreshToken)
        }).pipe(Effect.orDie)

        const expected = "Misconfigured: settings.baseUrl: must be an https URL (http only where WEBHOOK_ALLOW_INSECURE_TARGETS=true); " +
          "settings.tokenUrl: must be an https URL (http only where WEBHOOK_ALLOW_INSECURE_TARGETS=true)"
        // Inbound: the poll fails (its fiber polled already, or POST …/poll does now).
        const polled = yield* pollNow(storeId, id)
        if (polled.status === 200) expect(polled.body).toEqual({ status: "FAILED", recordCount: 0, error: expected })
        else expect(polled.status).toBe(409)
        // A run's row is written RUNNING first: wait until every one has its outcome.
        const inbound = yield* eventually(syncLog(storeId, id), (items) => items.length >= 1 && items.every((i) => i.status !== "RUNNING"))
        expect(inbound.every((i) => i.status === "FAILED" && i.errorSummary === expected)).toBe(true)

        // Outbound: the run is dead-lettered at once (retrying cannot help), with the same reason.
        yield* publishEvents(topic, [productUpdated(storeId)])
        const [run] = yield* eventually(connectorDeliveries(id), (rows) => rows.length === 1 && rows[0]!.status === "DEAD_LETTERED", "20 seconds")
        const [attempt] = yield* attemptErrors(run!.delivery_id)
        expect(attempt!.error).toBe(expected)

        expect(fake.requests).toEqual([])
      }))
  })
})
