/**
 * The webhook metrics on /metrics: the backlog's oldest age overall and for
 * the 20 endpoints waiting longest (no more series than that), endpoints by
 * health state, and the delivery latency histogram (event occurredAt → 2xx).
 * Real PostgreSQL (a database of this file's own, so the numbers are exact) and Kafka.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { scrapeMetrics } from "../support/metrics.ts"
import { startReceiver } from "../support/receiver.ts"
import { createSubscription, insertDelivery, newStoreId } from "./adminApiHelpers.ts"
import { attemptRecorded, nextRequest, publishEvents, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `wh-metrics-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`
const hour = 3600

describe("webhook metrics (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("backlog oldest age overall and for the 20 endpoints waiting longest; endpoints by state", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        // 22 endpoints, each with one delivery waiting (not due: the engine leaves it be) for 1..22 hours.
        const waiting: Array<{ subscriptionId: string; hours: number }> = []
        for (let hours = 1; hours <= 22; hours++) {
          const storeId = newStoreId()
          const sub = yield* createSubscription(storeId, { targetUrl: "http://127.0.0.1:9/never" })
          yield* insertDelivery({
            subscriptionId: sub.id,
            storeId,
            status: "FAILED",
            nextRetryAt: "2099-01-01T00:00:00Z",
            createdAt: new Date(Date.now() - hours * hour * 1000).toISOString()
          })
          waiting.push({ subscriptionId: sub.id, hours })
        }
        // States: the 22 have failed once (failing), one of them paused; one more endpoint disabled, one healthy.
        yield* sql`UPDATE webhook_subscriptions SET consecutive_failures = 1`
        yield* sql`UPDATE webhook_subscriptions SET paused_until = now() + interval '1 minute'
          WHERE subscription_id = ${waiting[0]!.subscriptionId}::uuid`
        const off = yield* createSubscription(newStoreId(), { isActive: false })
        yield* createSubscription(newStoreId())

        const metrics = yield* eventually(
          scrapeMetrics,
          // A sample taken after the last endpoint was created: every state's count is in.
          (m) =>
            m.value("webhook_endpoints{state=\"disabled\"}") === 1 && m.value("webhook_endpoints{state=\"healthy\"}") === 1 &&
            m.value("webhook_backlog_oldest_age_seconds") > 0,
          "10 seconds"
        )
        const overall = metrics.value("webhook_backlog_oldest_age_seconds")
        expect(overall).toBeGreaterThanOrEqual(22 * hour)
        expect(overall).toBeLessThan(22 * hour + 60)
        const labelled = metrics.text.split("\n").filter((l) => l.startsWith("webhook_backlog_oldest_age_seconds{"))
        expect(labelled).toHaveLength(20)
        // The 20 oldest: 3..22 hours; the two youngest are left out.
        for (const { subscriptionId, hours } of waiting) {
          const age = metrics.value(`webhook_backlog_oldest_age_seconds{subscription_id="${subscriptionId}"}`)
          if (hours <= 2) expect(age, `${hours} h`).toBe(0)
          else {
            expect(age).toBeGreaterThanOrEqual(hours * hour)
            expect(age).toBeLessThan(hours * hour + 60)
          }
        }
        expect(metrics.value("webhook_endpoints{state=\"healthy\"}")).toBe(1)
        expect(metrics.value("webhook_endpoints{state=\"failing\"}")).toBe(21)
        expect(metrics.value("webhook_endpoints{state=\"paused\"}")).toBe(1)
        expect(metrics.value("webhook_endpoints{state=\"disabled\"}")).toBe(1)
        expect(metrics.text).toContain("# TYPE webhook_backlog_oldest_age_seconds gauge")
        expect(off.isActive).toBe(false)

        // The oldest is delivered away: the overall age and the series follow at the next sample.
        yield* sql`UPDATE webhook_deliveries SET status = 'DELIVERED', next_retry_at = NULL
          WHERE subscription_id = ${waiting[21]!.subscriptionId}::uuid`
        const after = yield* eventually(
          scrapeMetrics,
          (m) => m.value("webhook_backlog_oldest_age_seconds") < 22 * hour,
          "10 seconds"
        )
        expect(after.value("webhook_backlog_oldest_age_seconds")).toBeGreaterThanOrEqual(21 * hour)
        expect(after.text).not.toContain(waiting[21]!.subscriptionId)
        expect(after.text).toContain(`subscription_id="${waiting[1]!.subscriptionId}"`)
      }))

    it.scoped("webhook_delivery_latency_seconds counts each 2xx under the bucket of its event's age", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        yield* adminFetch(`/stores/${storeId}/webhooks`, {
          method: "POST",
          body: { name: "latency", targetUrl: `${receiver.url}/hook`, events: ["order.placed"] }
        })
        const before = yield* scrapeMetrics
        // An event that happened 40 s before it was published.
        const event = {
          eventId: randomUUID(),
          eventType: "order.placed",
          storeId,
          occurredAt: new Date(Date.now() - 40_000).toISOString(),
          data: {}
        }
        yield* publishEvents(topic, [event])
        const request = yield* nextRequest(receiver.received, "20 seconds")
        yield* attemptRecorded(request.headers["x-ss3-delivery"] as string, 1)
        const after = yield* eventually(
          scrapeMetrics,
          (m) => m.value("webhook_delivery_latency_seconds_count") > before.value("webhook_delivery_latency_seconds_count")
        )
        const delta = (series: string) => after.value(series) - before.value(series)
        expect(delta("webhook_delivery_latency_seconds_count")).toBe(1)
        expect(delta("webhook_delivery_latency_seconds_bucket{le=\"30\"}")).toBe(0)
        expect(delta("webhook_delivery_latency_seconds_bucket{le=\"60\"}")).toBe(1)
        expect(delta("webhook_delivery_latency_seconds_sum")).toBeGreaterThanOrEqual(40)
        expect(delta("webhook_delivery_latency_seconds_sum")).toBeLessThan(60)
      }))
  })
})
