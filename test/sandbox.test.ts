/**
 * `npm start -- --sandbox`: the marketplace stand-ins and the demo connectors
 * (set up through the admin API) make a connector's outbound run and its poll
 * succeed end to end, for each of Amazon, eBay and Google, on the real
 * service (real PostgreSQL, real Kafka).
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { sandboxStore, SandboxLive } from "../src/cli/server/sandbox.ts"
import { adminFetch, TestApp } from "./support/app.ts"
import { eventually } from "./support/eventually.ts"
import { productUpdated, publishEvents } from "./connectors/frameworkHelpers.ts"

const prefix = `sandbox-${randomUUID().slice(0, 8)}`

interface Config {
  readonly id: string
  readonly connectorType: string
  readonly isActive: boolean
  readonly hasCredentials: boolean
}

describe("dev --sandbox", () => {
  layer(
    SandboxLive.pipe(
      Layer.provide(NodeContext.layer),
      Layer.provideMerge(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }))
    ),
    { excludeTestServices: true, timeout: 90_000 }
  )((it) => {
    it.effect("demo connectors of every type run and poll against the stand-ins", () =>
      Effect.gen(function*() {
        const configs = yield* eventually(
          Effect.map(adminFetch(`/stores/${sandboxStore}/connectors`), (r) => (r.body?.items ?? []) as Array<Config>),
          (items) => items.length === 3 && items.every((c) => c.isActive && c.hasCredentials),
          "30 seconds"
        )
        expect(configs.map((c) => c.connectorType).sort()).toEqual(["amazon", "ebay", "google-shopping"])

        for (const config of configs) {
          const poll = yield* adminFetch(`/stores/${sandboxStore}/connectors/${config.id}/poll`, { method: "POST" })
          // 409: its poller is polling it right now (its first poll); the sync log shows that one.
          if (poll.status !== 409) {
            expect(poll.status, JSON.stringify(poll.body)).toBe(200)
            expect(poll.body, config.connectorType).toMatchObject({ status: "SUCCEEDED", error: null })
          }
        }

        yield* publishEvents(`${prefix}.catalog`, [productUpdated(sandboxStore)])
        for (const config of configs) {
          const log = yield* eventually(
            Effect.map(
              adminFetch(`/stores/${sandboxStore}/connectors/${config.id}/sync-log`),
              (r) => (r.body?.items ?? []) as Array<{ direction: string; status: string; recordCount: number }>
            ),
            (items) => items.some((e) => e.direction === "OUTBOUND" && e.status !== "RUNNING"),
            "30 seconds"
          )
          const outbound = log.find((e) => e.direction === "OUTBOUND")!
          expect(outbound, config.connectorType).toMatchObject({ status: "SUCCEEDED", recordCount: 1 })
          expect(log.filter((e) => e.status === "FAILED"), config.connectorType).toEqual([])
        }
      }))
  })
})
