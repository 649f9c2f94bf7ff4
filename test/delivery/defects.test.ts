/**
 * A defect in one attempt fails that attempt, not the engine: a subscription
 * whose signing secret in Vault is empty, and a connector adapter that throws,
 * among healthy deliveries. Real PostgreSQL and Kafka.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Redacted, Schema } from "effect"
import { randomUUID } from "node:crypto"
import type { ConnectorAdapter } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { makeConnectorRegistry } from "../../src/programs/connectors/ConnectorRegistry.ts"
import { amazonAdapter } from "../../src/programs/connectors/adapters/amazon/index.ts"
import { Vault } from "../../src/services/Vault.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { scrapeMetrics } from "../support/metrics.ts"
import { startReceiver } from "../support/receiver.ts"
import { attemptRows, deliveryRow, envelope, nextRequest, publishEvents, readSecretFromVaultNext, subscribe, uniqueStore } from "../webhooks/deliveryHelpers.ts"

const prefix = `defects-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.events`

/** An adapter with a bug: handling any event throws. */
const explosive: ConnectorAdapter = {
  connectorType: "explosive",
  supportedEvents: ["product.updated"],
  settings: Schema.Struct({}),
  urlSettings: [],
  credentialKeys: [],
  pollIntervalOf: () => "1 hour",
  pagesPerPoll: 1,
  handleEvent: () =>
    Effect.sync(() => {
      throw new Error("adapter bug")
    }),
  pollPage: () => Effect.dieMessage("not polled in this test"),
  poll: () => Effect.dieMessage("not polled in this test")
}

describe("defects in single attempts (real PostgreSQL and Kafka)", () => {
  layer(
    TestApp({
      eventTopics: new RegExp(`^${prefix}\\.`),
      groupId: prefix,
      isolatedDatabase: true,
      registry: makeConnectorRegistry([amazonAdapter, explosive])
    }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.scoped("an empty signing secret and a throwing adapter each fail their own attempt with a reason; healthy deliveries go on", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const vault = yield* Vault
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const healthy = yield* subscribe(storeId, `${receiver.url}/healthy`, ["product.updated"])
        const broken = yield* subscribe(storeId, `${receiver.url}/broken`, ["product.updated"])
        // An operator's mistake in Vault: the secret is there, and empty.
        yield* vault.write(`integration-service/webhook/${broken.id}`, { secret: Redacted.make("") })
        yield* readSecretFromVaultNext(broken.id)
        const config = yield* adminFetch(`/stores/${storeId}/connectors`, {
          method: "POST",
          body: { connectorType: "explosive", displayName: "bug", eventSubscriptions: ["product.updated"] }
        })
        expect(config.status, JSON.stringify(config.body)).toBe(201)

        const before = yield* scrapeMetrics
        const events = Array.from({ length: 6 }, () => envelope(storeId, "product.updated", { sku: "s-1", title: "t" }))
        yield* publishEvents(topic, events)

        // The healthy subscription gets every event; the broken one none.
        const requests = yield* Effect.forEach(events, () => nextRequest(receiver.received, "20 seconds"))
        expect(requests.every((r) => r.path === "/healthy")).toBe(true)

        const rows = yield* eventually(
          sql<{ delivery_id: string; subscription_id: string | null; config_id: string | null; status: string }>`
            SELECT delivery_id::text, subscription_id::text, config_id::text, status::text FROM webhook_deliveries
            WHERE store_id = ${storeId}`,
          (rs) => rs.length === 18 && rs.every((r) => r.status !== "PENDING"),
          "20 seconds"
        )
        for (const row of rows.filter((r) => r.subscription_id === healthy.id)) expect(row.status).toBe("DELIVERED")
        for (const row of rows.filter((r) => r.subscription_id === broken.id)) {
          expect(yield* deliveryRow(row.delivery_id)).toMatchObject({ status: "FAILED", attempt_number: 1 })
          const [attempt] = yield* attemptRows(row.delivery_id)
          expect(attempt!.error).toContain("SigningSecretInvalid")
          expect(attempt!.error).toContain("is empty")
        }
        for (const row of rows.filter((r) => r.config_id === config.body.id)) {
          expect(row.status).toBe("FAILED")
          const [attempt] = yield* attemptRows(row.delivery_id)
          expect(attempt!.error).toBe("Defect: defect in the explosive connector: Error: adapter bug")
        }
        const log = yield* adminFetch(`/stores/${storeId}/connectors/${config.body.id}/sync-log`)
        const outbound = log.body.items.filter((e: any) => e.direction === "OUTBOUND")
        expect(outbound).toHaveLength(6)
        expect(outbound.every((e: any) => e.status === "FAILED" && e.errorSummary === "Defect: defect in the explosive connector: Error: adapter bug")).toBe(true)

        const after = yield* scrapeMetrics
        expect(after.value(`delivery_defects_total{lane="connector"}`) - before.value(`delivery_defects_total{lane="connector"}`)).toBe(6)
        expect(after.value(`delivery_loop_restarts_total{loop="connector worker"}`)).toBe(0)

        // The pool is alive: later events are delivered as usual.
        const later = envelope(storeId, "product.updated", { sku: "s-2", title: "t" })
        yield* publishEvents(topic, [later])
        const next = yield* nextRequest(receiver.received, "20 seconds")
        expect(JSON.parse(next.text).eventId).toBe(later.eventId)
      }))
  })
})
