/**
 * Migration 0010 on a database that already has deliveries: attempt_number,
 * which used to restart at each re-trigger, becomes the count of every attempt
 * on record, and the retry table's position (cycle_attempts) keeps its place.
 * Real PostgreSQL: a fresh database migrated up to 0009, filled, then migrated on.
 */
import * as Migrator from "@effect/sql/Migrator"
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { makeDbLive } from "../../src/layers/DbLive.ts"
import { loader } from "../../src/migrations/index.ts"
import { runMigrations } from "../../src/programs/migrate.ts"
import { freshDatabase, TestDbLive } from "../support/db.ts"

const upTo = (last: number) =>
  Migrator.make({})({
    loader: Effect.map(loader, (all) => all.filter(([id]) => id <= last)),
    table: "integration_service_migrations"
  })

describe("migration 0010 (delivery cycles) on existing rows", () => {
  it.scoped("a re-triggered delivery's attempt count becomes its history's, its cycle position stays", () =>
    Effect.gen(function*() {
      const admin = yield* Layer.build(TestDbLive)
      const url = yield* freshDatabase.pipe(Effect.provide(admin))
      const db = yield* Layer.build(makeDbLive(url, { maxConnections: 2 }))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient
        yield* upTo(9)
        const subscriptionId = randomUUID()
        yield* sql`INSERT INTO webhook_subscriptions (subscription_id, store_id, name, target_url, events)
                   VALUES (${subscriptionId}, 's', 'n', 'https://x.example.com', ${["*"]})`
        // Re-triggered after 5 attempts, failed once more: attempt_number 1 then, 6 attempts on record.
        const retriggered = randomUUID()
        const fresh = randomUUID()
        const untouched = randomUUID()
        for (const [id, status, attempts] of [[retriggered, "FAILED", 1], [fresh, "FAILED", 2], [untouched, "PENDING", 0]] as const) {
          yield* sql`INSERT INTO webhook_deliveries (delivery_id, subscription_id, store_id, event_type, event_id, event_payload,
                       status, attempt_number, next_retry_at)
                     VALUES (${id}, ${subscriptionId}, 's', 'order.placed', ${randomUUID()}, '{}'::jsonb,
                       ${status}::webhook_delivery_status, ${attempts}, now())`
        }
        const history = { [retriggered]: [1, 2, 3, 4, 5, 1], [fresh]: [1, 2] }
        for (const [id, numbers] of Object.entries(history)) {
          for (const [i, n] of numbers.entries()) {
            yield* sql`INSERT INTO webhook_delivery_attempts (attempt_id, delivery_id, attempt_number, started_at, duration_ms)
                       VALUES (${randomUUID()}, ${id}, ${n}, now() + ${i}::int * interval '1 second', 5)`
          }
        }

        yield* runMigrations
        const rows = yield* sql<{ delivery_id: string; attempt_number: number; cycle_attempts: number; replay: boolean }>`
          SELECT delivery_id::text AS delivery_id, attempt_number, cycle_attempts, replay FROM webhook_deliveries`
        const byId = Object.fromEntries(rows.map((r) => [r.delivery_id, r]))
        expect(byId[retriggered]).toMatchObject({ attempt_number: 6, cycle_attempts: 1, replay: false })
        expect(byId[fresh]).toMatchObject({ attempt_number: 2, cycle_attempts: 2 })
        expect(byId[untouched]).toMatchObject({ attempt_number: 0, cycle_attempts: 0 })
      }).pipe(Effect.provide(db))
    }), { timeout: 60_000 })
})
