/**
 * A connector's outbound runs are listed, and dead-lettered ones re-triggered,
 * like webhook deliveries: through the admin API and the CLI. Real PostgreSQL
 * and Kafka, a fake Amazon SP-API.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { connectorsCommand } from "../../src/cli/commands/connectors.ts"
import { adminFetch, adminToken, baseUrl, TestApp } from "../support/app.ts"
import { makeCli } from "../support/cliHarness.ts"
import { eventually } from "../support/eventually.ts"
import { json } from "./fakeServer.ts"
import {
  amazonFake,
  amazonSettings,
  createConfig,
  productUpdated,
  publishEvents,
  putCredentials,
  uniqueStore
} from "./frameworkHelpers.ts"

const prefix = `runs-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.products`
const cli = makeCli([connectorsCommand])

describe("connector runs: listed and re-triggered (real PostgreSQL and Kafka, fake Amazon)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("a run Amazon refuses is dead-lettered; it is listed by status, shown with its attempts, and re-triggered one by one or in bulk", () =>
      Effect.gen(function*() {
        const fake = yield* amazonFake
        fake.listings = () => json(400, { errors: [{ code: "InvalidInput", message: "the product type is not allowed" }] })
        const storeId = uniqueStore()
        const config = yield* createConfig(storeId, { eventSubscriptions: ["product.updated"], settings: amazonSettings(fake) })
        yield* putCredentials(storeId, config.id)
        yield* publishEvents(topic, [productUpdated(storeId), productUpdated(storeId), productUpdated(storeId)])

        const runsPath = `/stores/${storeId}/connectors/${config.id}/runs`
        const dead = yield* eventually(
          adminFetch(`${runsPath}?status=DEAD_LETTERED`),
          (r) => r.status === 200 && r.body.items.length === 3,
          "20 seconds"
        )
        const [first, ...rest] = dead.body.items as Array<{ id: string; configId: string; status: string; attemptNumber: number }>
        expect(first).toMatchObject({ configId: config.id, status: "DEAD_LETTERED", attemptNumber: 1 })
        const shown = yield* adminFetch(`${runsPath}/${first!.id}`)
        expect(shown.status).toBe(200)
        expect(shown.body.attempts).toHaveLength(1)
        expect(shown.body.attempts[0].error).toContain("the product type is not allowed")

        // Amazon takes them now: one re-triggered through the API, the rest in bulk through the CLI.
        fake.listings = (request) =>
          json(200, { sku: decodeURIComponent(request.path.split("/").pop()!), status: "ACCEPTED", submissionId: randomUUID(), issues: [] })
        const retried = yield* adminFetch(`${runsPath}/${first!.id}/retry`, { method: "POST" })
        expect(retried.status).toBe(202)
        yield* eventually(adminFetch(`${runsPath}/${first!.id}`), (r) => r.body.status === "DELIVERED", "20 seconds")
        const again = yield* adminFetch(`${runsPath}/${first!.id}/retry`, { method: "POST" })
        expect(again.status).toBe(409)

        const url = yield* baseUrl
        const common = ["--store", storeId, "--connector", config.id, "--url", url, "--token", adminToken]
        const listed = yield* cli(["connectors", "runs", "--status", "DEAD_LETTERED", ...common])
        expect(listed.exitCode).toBe(0)
        for (const run of rest) expect(listed.stdout).toContain(run.id)
        const bulk = yield* cli(["connectors", "retry", ...common])
        // The service runs in this process too: its log lines are left out.
        expect(bulk.stdout.split("\n").filter((line) => !line.startsWith("timestamp="))).toEqual(["re-triggered 2 runs"])
        yield* eventually(adminFetch(runsPath), (r) => r.body.items.every((x: any) => x.status === "DELIVERED"), "20 seconds")

        // Another store's config, or a run of another config, is not found.
        expect((yield* adminFetch(`/stores/${uniqueStore()}/connectors/${config.id}/runs`)).status).toBe(404)
        expect((yield* adminFetch(`${runsPath}/${randomUUID()}`)).status).toBe(404)
        expect((yield* adminFetch(`${runsPath}/not-a-uuid`)).status).toBe(400)
      }))
  })
})
