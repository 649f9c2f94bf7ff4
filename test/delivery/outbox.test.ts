/**
 * The outbox never wedges: relay rounds are capped by bytes (Kafka refuses a
 * request over its limit as a whole), and a message that can never be
 * published — larger than the limit, or refused by the broker — is set aside
 * (logged, counted, listable) while the rest flows. Real PostgreSQL and the
 * real broker (message.max.bytes at its default, ~1 MB).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { scrapeMetrics } from "../support/metrics.ts"
import { tapTopics } from "../webhooks/deliveryHelpers.ts"

const prefix = `outbox-${randomUUID().slice(0, 8)}`

const enqueue = (topic: string, values: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql`INSERT INTO kafka_outbox (topic, message_key, value)
        SELECT ${topic}, 'store-1', v FROM UNNEST(${values}::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n`)

const outboxLeft = Effect.flatMap(SqlClient, (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM kafka_outbox`).pipe(
  Effect.map((rows) => rows[0]!.n)
)

describe("the Kafka outbox (real PostgreSQL and Kafka)", () => {
  it.scopedLive("600 messages of 3 KB (1.8 MB in all) and one over the 1 MB limit: all 600 are published, the large one is set aside", () =>
    Effect.gen(function*() {
      const app = yield* Layer.build(TestApp({ eventTopics: new RegExp(`^${prefix}-a\\.in$`), groupId: `${prefix}-a`, isolatedDatabase: true }))
      const topic = `${prefix}-a.out`
      const tap = yield* tapTopics(new RegExp(`^${topic.replaceAll(".", "\\.")}$`)).pipe(Effect.provide(app))
      const before = yield* scrapeMetrics.pipe(Effect.provide(app))
      const small = Array.from({ length: 600 }, (_, i) => JSON.stringify({ n: i, padding: "x".repeat(3000) }))
      const large = JSON.stringify({ n: "large", padding: "y".repeat(1_200_000) })
      yield* enqueue(topic, [...small.slice(0, 300), large, ...small.slice(300)]).pipe(Effect.provide(app))

      const got = yield* tap.waitFor((m) => typeof m.value["n"] === "number", 600, "60 seconds")
      expect(new Set(got.map((m) => m.value["n"])).size).toBe(600)
      yield* eventually(outboxLeft.pipe(Effect.provide(app)), (n) => n === 0, "20 seconds")

      const aside = yield* adminFetch("/ops/outbox/set-aside").pipe(Effect.provide(app))
      expect(aside.status).toBe(200)
      expect(aside.body.items).toHaveLength(1)
      expect(aside.body.items[0]).toMatchObject({ topic, key: "store-1", sizeBytes: large.length })
      expect(aside.body.items[0].reason).toContain("over the 1000000-byte limit")
      const kept = yield* Effect.flatMap(SqlClient, (sql) => sql<{ value: string }>`SELECT value FROM kafka_outbox_set_aside`).pipe(
        Effect.provide(app)
      )
      expect(kept[0]!.value).toBe(large)
      const after = yield* scrapeMetrics.pipe(Effect.provide(app))
      expect(after.value("outbox_messages_set_aside_total") - before.value("outbox_messages_set_aside_total")).toBe(1)
      expect(after.value("outbox_messages_published_total") - before.value("outbox_messages_published_total")).toBe(600)
    }), { timeout: 120_000 })

  it.scopedLive("a message the broker refuses (configured limit above the broker's) is set aside after it is tried alone; the others flow", () =>
    Effect.gen(function*() {
      const app = yield* Layer.build(TestApp({
        eventTopics: new RegExp(`^${prefix}-b\\.in$`),
        groupId: `${prefix}-b`,
        isolatedDatabase: true,
        kafkaMaxMessageBytes: 5_000_000
      }))
      const topic = `${prefix}-b.out`
      const tap = yield* tapTopics(new RegExp(`^${topic.replaceAll(".", "\\.")}$`)).pipe(Effect.provide(app))
      const refused = JSON.stringify({ n: "refused", padding: "z".repeat(1_500_000) })
      const others = Array.from({ length: 20 }, (_, i) => JSON.stringify({ n: i }))
      yield* enqueue(topic, [...others.slice(0, 10), refused, ...others.slice(10)]).pipe(Effect.provide(app))

      const got = yield* tap.waitFor((m) => typeof m.value["n"] === "number", 20, "60 seconds")
      expect(new Set(got.map((m) => m.value["n"])).size).toBe(20)
      const aside = yield* eventually(
        adminFetch("/ops/outbox/set-aside").pipe(Effect.provide(app)),
        (r) => r.body.items.length === 1,
        "30 seconds"
      )
      expect(aside.body.items[0].reason).toMatch(/^refused by Kafka/)
      yield* eventually(outboxLeft.pipe(Effect.provide(app)), (n) => n === 0, "20 seconds")
    }), { timeout: 120_000 })
})
