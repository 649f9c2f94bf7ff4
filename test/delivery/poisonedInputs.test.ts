/**
 * Quarantine, never block: receivers that answer with bytes PostgreSQL cannot
 * store, and events no delivery can be made of, each go through the engine
 * without holding anything else up. Real PostgreSQL and the real broker; the
 * metrics ledger (consumed = matched + unmatched + quarantined) balances.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Kafka as KafkaJs, logLevel } from "kafkajs"
import { randomUUID } from "node:crypto"
import { adminFetch, TestApp } from "../support/app.ts"
import { testKafkaBrokerList } from "../support/context.ts"
import { eventually } from "../support/eventually.ts"
import { scrapeMetrics } from "../support/metrics.ts"
import { startReceiver } from "../support/receiver.ts"
import {
  envelope,
  expectNoMoreRequests,
  nextRequest,
  publishEvents,
  storeDeliveries,
  subscribe,
  uniqueStore
} from "../webhooks/deliveryHelpers.ts"

const prefix = `poison-${randomUUID().slice(0, 8)}`

const rawProducer = Effect.acquireRelease(
  Effect.promise(async () => {
    const kafka = new KafkaJs({ clientId: `${prefix}-raw`, brokers: testKafkaBrokerList(), logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    const producer = kafka.producer()
    await Promise.all([admin.connect(), producer.connect()])
    return { admin, producer }
  }),
  ({ admin, producer }) => Effect.promise(() => Promise.all([admin.disconnect(), producer.disconnect()]))
)

const ledger = [
  "events_consumed_total",
  "events_matched_total",
  "events_unmatched_total"
] as const

describe("poisoned replies and poisoned events (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, eventMaxBytes: 64 * 1024 }), {
    excludeTestServices: true,
    timeout: 90_000
  })((it) => {
    it.scoped("replies with NUL bytes, invalid UTF-8 and lone surrogates among normal traffic: every delivery is recorded, none POSTed twice", () =>
      Effect.gen(function*() {
        // Bytes PostgreSQL's text cannot hold (NUL), invalid UTF-8, a CESU-encoded lone surrogate, then a long tail.
        const poison = Buffer.concat([Buffer.from("200 ok"), Buffer.from([0x00, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.alloc(20_000, 0x00)])
        const receiver = yield* startReceiver((request, res) => {
          res.statusCode = 200
          res.end(request.text.includes("\"poisonReply\":true") ? poison : "ok")
        })
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)
        const events = Array.from({ length: 40 }, (_, i) => envelope(storeId, "order.placed", { poisonReply: i % 4 === 0 }))
        yield* publishEvents(`${prefix}.orders`, events)

        const requests = yield* Effect.forEach(events, () => nextRequest(receiver.received, "30 seconds"))
        const rows = yield* eventually(storeDeliveries(storeId), (rs) => rs.length === 40 && rs.every((r) => r.status === "DELIVERED"), "30 seconds")
        yield* expectNoMoreRequests(receiver.received, 1500)
        expect(new Set(requests.map((r) => r.headers["x-ss3-delivery"])).size).toBe(40)
        const poisoned = rows.filter((r) => r.response_body !== "ok")
        expect(poisoned).toHaveLength(10)
        for (const row of poisoned) {
          expect(row.attempt_number).toBe(1)
          expect(row.response_body!.startsWith("200 ok")).toBe(true)
          expect(row.response_body).not.toContain("\u0000")
          expect(row.response_body!.length).toBeLessThanOrEqual(4096)
        }
      }))

    it.scoped("NUL, lone-surrogate, deep, oversized, non-UTF-8, non-JSON, non-envelope, empty and database-refused events are quarantined; the good events behind them on the partition are delivered", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        // A value this database refuses at insert time (as any data error would be), for this test's event type only.
        yield* sql`ALTER TABLE webhook_deliveries ADD CONSTRAINT poison_test_refused CHECK (event_type <> 'poison.refused')`
        const { admin, producer } = yield* rawProducer
        const topic = `${prefix}.events`
        yield* Effect.promise(() => admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true }))
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`, ["*"])
        const secret = "customer-secret-value"

        const event = (data: Record<string, unknown>, eventType = "order.placed") => JSON.stringify(envelope(storeId, eventType, data))
        let deep = `"${secret}"`
        for (let i = 0; i < 5000; i++) deep = `[${deep}]`
        const poisoned: ReadonlyArray<readonly [string, string | Buffer | null]> = [
          ["unstorable_string", event({ note: `${secret}\u0000` })],
          ["unstorable_string", event({ note: `${secret}\ud800` })],
          ["too_deep", `{"eventId":"${randomUUID()}","eventType":"order.placed","storeId":"${storeId}","occurredAt":"2026-01-01T00:00:00Z","data":{"x":${deep}}}`],
          ["too_large", event({ note: secret, padding: "x".repeat(100_000) })],
          ["invalid_utf8", Buffer.concat([Buffer.from(`{"note":"${secret}`), Buffer.from([0xff, 0xfe]), Buffer.from("\"}")])],
          ["invalid_json", `${secret} is not json {`],
          ["invalid_envelope", JSON.stringify({ eventId: secret, eventType: "Not A Type", storeId, data: { secret } })],
          ["empty", null],
          ["rejected_by_database", event({ note: secret }, "poison.refused")]
        ]
        const good = Array.from({ length: 5 }, () => envelope(storeId, "order.placed", { ok: true }))

        const before = yield* scrapeMetrics
        yield* Effect.promise(() =>
          producer.send({
            topic,
            acks: -1,
            messages: [...poisoned.map(([, value]) => ({ key: storeId, value })), ...good.map((e) => ({ key: storeId, value: JSON.stringify(e) }))]
          })
        )

        const delivered = yield* Effect.forEach(good, () => nextRequest(receiver.received, "30 seconds"))
        expect(delivered.map((r) => JSON.parse(r.text).eventId).sort()).toEqual(good.map((e) => e.eventId).sort())

        // Recorded: where from and why, never the content.
        const quarantined = yield* eventually(
          adminFetch(`/ops/quarantine?limit=500`),
          (r) => r.status === 200 && r.body.items.filter((q: any) => q.topic === topic).length === poisoned.length,
          "30 seconds"
        )
        const mine = quarantined.body.items.filter((q: any) => q.topic === topic)
        expect(mine.map((q: any) => q.reason).sort()).toEqual(poisoned.map(([reason]) => reason).sort())
        expect(JSON.stringify(mine)).not.toContain(secret)
        for (const q of mine) {
          expect(q).toMatchObject({ partition: 0 })
          expect(Number(q.offset)).toBeGreaterThanOrEqual(0)
        }
        const withStore = mine.filter((q: any) => q.storeId === storeId).map((q: any) => q.reason).sort()
        expect(withStore).toEqual(["invalid_envelope", "rejected_by_database", "unstorable_string", "unstorable_string"])
        const byStore = yield* adminFetch(`/ops/quarantine?storeId=${storeId}`)
        expect(byStore.body.items).toHaveLength(4)

        // The ledger balances: every consumed message is matched, unmatched or quarantined.
        const after = yield* eventually(scrapeMetrics, (m) =>
          m.value("events_consumed_total") - before.value("events_consumed_total") >= poisoned.length + good.length, "20 seconds")
        const delta = Object.fromEntries(ledger.map((s) => [s, after.value(s) - before.value(s)]))
        const quarantinedDelta = (reason: string) =>
          after.value(`events_quarantined_total{reason="${reason}"}`) - before.value(`events_quarantined_total{reason="${reason}"}`)
        const reasons = [...new Set(poisoned.map(([reason]) => reason))]
        const quarantinedTotal = reasons.reduce((sum, reason) => sum + quarantinedDelta(reason), 0)
        expect(delta["events_consumed_total"]).toBe(poisoned.length + good.length)
        expect(delta["events_matched_total"]).toBe(good.length)
        expect(delta["events_unmatched_total"]).toBe(0)
        expect(quarantinedTotal).toBe(poisoned.length)
        expect(delta["events_consumed_total"]).toBe(delta["events_matched_total"]! + delta["events_unmatched_total"]! + quarantinedTotal)
        expect(quarantinedDelta("unstorable_string")).toBe(2)
        yield* sql`ALTER TABLE webhook_deliveries DROP CONSTRAINT poison_test_refused`
      }))

    it.scoped("GET /metrics is Prometheus text naming the engine's ledger", () =>
      Effect.gen(function*() {
        const { text } = yield* scrapeMetrics
        for (const name of [
          "events_consumed_total",
          "events_matched_total",
          "events_unmatched_total",
          "events_quarantined_total",
          "deliveries_created_total",
          "delivery_attempts_total",
          "outbox_messages_published_total"
        ]) {
          expect(text).toContain(`# TYPE ${name} counter`)
        }
        expect(text).toMatch(/^delivery_attempts_total\{lane="webhook",outcome="delivered"\} \d+$/m)
      }))
  })
})
