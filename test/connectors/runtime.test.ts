/**
 * The connector runtime on real PostgreSQL and Kafka: one token request per
 * config at a time (against a fake Amazon counting them), a defect thrown by an
 * adapter failing that run or poll (with a FAILED row and its reason) while the
 * poll loop and the workers go on, and database errors that stay typed.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Context, Effect, Either, Layer, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { amazonAdapter } from "../../src/programs/connectors/adapters/amazon/index.ts"
import type { ConnectorAdapter, PollPage } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { makeConnectorConfigsRepoSql } from "../../src/layers/ConnectorConfigsRepoSql.ts"
import { PersistenceError } from "../../src/services/Persistence.ts"
import { makeConnectorRegistry } from "../../src/programs/connectors/ConnectorRegistry.ts"
import { ConnectorRuntime } from "../../src/programs/connectors/ConnectorRuntime.ts"
import { collectPages } from "../../src/programs/connectors/marketplace/paging.ts"
import { AppConfig } from "../../src/services/AppConfig.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"
import { Vault } from "../../src/services/Vault.ts"
import { TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import {
  amazonFake,
  amazonSettings,
  attemptErrors,
  changeKeys,
  connectorDeliveries,
  createConfig,
  pollNow,
  productUpdated,
  publishEvents,
  putCredentials,
  syncLog,
  tapImported,
  uniqueStore
} from "./frameworkHelpers.ts"

const prefix = `connrt-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.catalog`

/**
 * A connector with bugs: its first two polls of a config throw, and so does
 * handling an event whose data says `boom`. Polled every second.
 */
const pollsOf = new Map<string, number>()
const flakyPage = (configId: string): PollPage => {
  const n = (pollsOf.get(configId) ?? 0) + 1
  pollsOf.set(configId, n)
  if (n <= 2) throw new TypeError("Cannot read properties of undefined (reading 'AmazonOrderId')")
  return {
    entityType: "order",
    records: n === 3 ? [{ externalOrderId: "F-1", updatedAt: "2024-05-01T10:00:00Z", status: "Shipped", raw: { id: "F-1" } }] : [],
    cursor: `after-${n}`,
    more: false
  }
}
const flakyAdapter: ConnectorAdapter<{ readonly pollIntervalSeconds: number }> = {
  connectorType: "flaky",
  supportedEvents: ["product.updated"],
  settings: Schema.Struct({ pollIntervalSeconds: Schema.optionalWith(Schema.Number, { default: () => 60 }) }),
  urlSettings: [],
  credentialKeys: [],
  pollIntervalOf: () => "1 second",
  pagesPerPoll: 5,
  handleEvent: (_, event) =>
    Effect.sync(() => {
      if ((event.data as { boom?: boolean }).boom === true) throw new Error("boom in handleEvent")
      return { entityType: "product", recordCount: 1 }
    }),
  pollPage: (context) => Effect.sync(() => flakyPage(context.configId)),
  poll: collectPages((context) => Effect.sync(() => flakyPage(context.configId)))
}

const registry = makeConnectorRegistry([amazonAdapter, flakyAdapter])

const envelope = (storeId: string, data: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(EventEnvelope)(productUpdated(storeId, data))

describe("connector runtime (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, registry }), {
    excludeTestServices: true,
    timeout: 90_000
  })((it) => {
    it.scoped("calls of one config that start together share one token request; a refused token is renewed once", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        yield* putCredentials(storeId, config.id)
        const stored = Option.getOrThrow(yield* (yield* makeConnectorConfigsRepoSql).findById(config.id))
        // A runtime of its own over a Vault that answers after 100 ms (as a remote one does), and a
        // slow token endpoint: every call is preparing, then waiting for the token, at the same time.
        const vault = yield* Vault
        const slowVault = { ...vault, read: (path: string) => Effect.delay(vault.read(path), "100 millis") }
        const runtime = yield* Layer.build(ConnectorRuntime.Default.pipe(
          Layer.provide(Layer.succeed(Vault, slowVault)),
          Layer.provide(registry),
          Layer.provide(Layer.succeed(HttpOut, yield* HttpOut)),
          Layer.provide(Layer.succeed(AppConfig, yield* AppConfig))
        )).pipe(Effect.map(Context.get(ConnectorRuntime)))
        fake.tokenDelayMs = 300

        const calls = Array.from({ length: 8 }, () => runtime.handleEvent(stored, envelope(storeId)))
        const outcomes = yield* Effect.all(calls, { concurrency: "unbounded" })
        expect(outcomes.every((o) => o.recordCount === 1)).toBe(true)
        expect(fake.tokenRequests()).toBe(1)
        expect(fake.listingRequests()).toHaveLength(8)

        // Amazon stops accepting the token: eight calls refused at once share one new token.
        fake.revokeTokens()
        const again = yield* Effect.all(Array.from({ length: 8 }, () => runtime.handleEvent(stored, envelope(storeId))), {
          concurrency: "unbounded"
        })
        expect(again.every((o) => o.recordCount === 1)).toBe(true)
        expect(fake.tokenRequests()).toBe(2)
        const withToken = (token: string) =>
          fake.listingRequests().filter((r) => r.headers["x-amz-access-token"] === token).length
        expect(withToken("Atza|framework-1")).toBeGreaterThan(8) // some of the second eight were refused…
        expect(withToken("Atza|framework-2")).toBe(8) // …and every one of them got through with the one new token
        expect(fake.errors).toEqual([])
      }))

    it.scoped("a defect in an adapter's poll fails that poll (FAILED, with the reason); the loop goes on polling", () =>
      Effect.gen(function*() {
        const tap = yield* tapImported
        const storeId = uniqueStore()
        const config = yield* createConfig(storeId, { connectorType: "flaky", settings: {} })

        const log = yield* eventually(
          syncLog(storeId, config.id),
          (items) => items.filter((i) => i.status === "SUCCEEDED").length >= 2,
          "30 seconds"
        )
        const inbound = [...log].reverse().filter((i) => i.direction === "INBOUND")
        expect(inbound.slice(0, 3).map((i) => [i.status, i.recordCount])).toEqual([["FAILED", 0], ["FAILED", 0], ["SUCCEEDED", 1]])
        for (const failed of inbound.slice(0, 2)) {
          expect(failed.errorSummary).toBe(
            "Defect: defect in the flaky connector: TypeError: Cannot read properties of undefined (reading 'AmazonOrderId')"
          )
          expect(failed.finishedAt).not.toBeNull()
        }
        const published = yield* tap.waitFor(config.id, 1)
        expect(changeKeys(published)).toEqual(["F-1@2024-05-01T10:00:00Z"])
      }))

    it.scoped("a defect in an adapter's event handling fails that run (retried); the other runs are delivered", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const config = yield* createConfig(storeId, {
          connectorType: "flaky",
          eventSubscriptions: ["product.updated"],
          settings: {}
        })
        yield* publishEvents(topic, [
          productUpdated(storeId, { title: "fine 1" }),
          productUpdated(storeId, { boom: true }),
          productUpdated(storeId, { title: "fine 2" })
        ])
        const rows = yield* eventually(
          connectorDeliveries(config.id),
          (rs) => rs.length === 3 && rs.every((r) => r.attempt_number >= 1),
          "20 seconds"
        )
        const byStatus = rows.map((r) => r.status).sort()
        expect(byStatus).toEqual(["DELIVERED", "DELIVERED", "FAILED"])
        const failed = rows.find((r) => r.status === "FAILED")!
        expect(failed.next_retry_at).not.toBeNull()
        const [attempt] = yield* attemptErrors(failed.delivery_id)
        expect(attempt!.error).toBe("Defect: defect in the flaky connector: Error: boom in handleEvent")
      }))

    it.scoped("one poll of a config at a time on one instance: a second POST …/poll meanwhile is a 409", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        fake.ordersDelayMs = 1_000
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        yield* putCredentials(storeId, config.id)
        const [first, second] = yield* Effect.all([pollNow(storeId, config.id), pollNow(storeId, config.id)], {
          concurrency: "unbounded"
        })
        expect([first.status, second.status].sort()).toEqual([200, 409])
        expect(fake.ordersRequests()).toHaveLength(1)
        expect(fake.maxOrdersInFlight).toBe(1)
      }))

    it.scoped("a database error in the repository is a typed PersistenceError, not a defect", () =>
      Effect.gen(function*() {
        const result = yield* Effect.either((yield* makeConnectorConfigsRepoSql).findById("not-a-uuid"))
        expect(Either.isLeft(result) && result.left instanceof PersistenceError && result.left.kind === "Rejected").toBe(true)
      }))
  })
})
