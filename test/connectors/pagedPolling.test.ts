/**
 * Catch-up over several polls (real PostgreSQL and Kafka, a fake getOrders that
 * pages a real window): a window of 3,000 Amazon orders — more than one poll
 * may read — is imported completely, each change published once to
 * `connector.order.imported`, page by page with a checkpointed cursor, through
 * a marketplace failure mid-poll and NextTokens that expire between polls.
 *
 * The adapter is Amazon's with a page budget of 4 and a fast getOrders rate, so
 * the test needs no real minutes; the budget and the checkpoints are what is
 * exercised, the same at Amazon's rate.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { makeAmazonAdapter } from "../../src/programs/connectors/adapters/amazon/index.ts"
import { makeConnectorRegistry } from "../../src/programs/connectors/ConnectorRegistry.ts"
import { TestApp } from "../support/app.ts"
import { amazonWindowFake, WINDOW_TOKEN_PATH } from "./amazonWindowFake.ts"
import {
  changeKeys,
  createConfig,
  order,
  pollNow,
  pollState,
  putCredentials,
  SELLER,
  syncLog,
  tapImported,
  uniqueStore
} from "./frameworkHelpers.ts"

const prefix = `connpaged-${randomUUID().slice(0, 8)}`
const pagesPerPoll = 4
const registry = makeConnectorRegistry([
  makeAmazonAdapter({ getOrdersRate: { ratePerSecond: 200, burst: 200 }, pagesPerPoll })
])

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")

describe("paged polling (real PostgreSQL and Kafka, a fake getOrders window)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, registry }), {
    excludeTestServices: true,
    timeout: 180_000
  })((it) => {
    it.scoped("an Amazon window of 3,000 orders is imported completely over several polls, each change once", () =>
      Effect.gen(function*() {
        const tap = yield* tapImported
        const fake = yield* amazonWindowFake
        const start = Date.now() - 20 * 60 * 60_000
        // One change every 20 s over ~17 hours (inside the first poll's day), some sharing a second.
        fake.orders = Array.from({ length: 3_000 }, (_, i) =>
          order(`113-${String(i).padStart(7, "0")}-0000001`, iso(start + Math.floor(i / 3) * 60_000 + (i % 3) * 10_000)))
        const storeId = uniqueStore()
        const config = yield* createConfig(storeId, {
          isActive: false,
          settings: { sellerId: SELLER, baseUrl: fake.url, tokenUrl: `${fake.url}${WINDOW_TOKEN_PATH}`, pollIntervalSeconds: 60 }
        })
        yield* putCredentials(storeId, config.id)

        const polls: Array<{ status: string; recordCount: number; cursor: string | null; requests: number }> = []
        for (let i = 0; i < 60; i++) {
          const requestsBefore = fake.ordersRequests().length
          if (i === 2) fake.generation++ // every NextToken handed out so far expires
          if (i === 4) fake.failRequest = requestsBefore + 3 // this poll's third page: 503
          const polled = yield* pollNow(storeId, config.id)
          expect(polled.status, JSON.stringify(polled.body)).toBe(200)
          const cursor = (yield* pollState(config.id))!.cursor
          polls.push({ ...polled.body, cursor, requests: fake.ordersRequests().length - requestsBefore })
          // Caught up: the cursor is a plain date again, and the last poll found nothing new.
          if (cursor !== null && !cursor.startsWith("{") && polled.body.recordCount === 0) break
        }

        expect(fake.violations).toEqual([])
        expect(fake.errors).toEqual([])
        // Several polls, none over its page budget.
        expect(polls.length).toBeGreaterThan(3_000 / (pagesPerPoll * 100))
        expect(polls.every((p) => p.requests <= pagesPerPoll)).toBe(true)
        expect(polls.every((p) => p.recordCount <= pagesPerPoll * 100)).toBe(true)
        // The first poll stopped mid-window at its budget: a checkpoint with a NextToken.
        expect(polls[0]).toMatchObject({ status: "SUCCEEDED", recordCount: 400 })
        expect(JSON.parse(polls[0]!.cursor!)).toMatchObject({ next: expect.any(String) })

        // The poll whose third page failed kept its first two pages, and the next one went on from there.
        expect(polls[4]).toMatchObject({ status: "FAILED", requests: 3 })
        expect(polls[4]!.recordCount).toBeGreaterThan(0)
        const failedAt = JSON.parse(polls[4]!.cursor!) as { next: string }
        const resumed = fake.ordersRequests()[polls.slice(0, 5).reduce((n, p) => n + p.requests, 0)]!
        expect(resumed.query.get("NextToken")).toBe(failedAt.next)

        // Every change published exactly once.
        const published = yield* tap.waitFor(config.id, 3_000, "60 seconds")
        const keys = changeKeys(published)
        expect(keys).toHaveLength(3_000)
        expect(new Set(keys)).toEqual(new Set(fake.orders.map((o) => `${o.AmazonOrderId}@${o.LastUpdateDate}`)))
        expect(polls.reduce((n, p) => n + p.recordCount, 0)).toBe(3_000)
        expect(new Set(published.map((m) => m.value.eventId)).size).toBe(3_000)

        // One sync-log row per poll, with what it published.
        const inbound = (yield* syncLog(storeId, config.id)).filter((i) => i.direction === "INBOUND")
        expect(inbound.map((i) => [i.status, i.recordCount]).reverse()).toEqual(polls.map((p) => [p.status, p.recordCount]))
        expect(fake.tokenRequests()).toBe(1)
      }))
  })
})
