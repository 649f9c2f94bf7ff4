import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { DbDev } from "../src/layers/DbDev.ts"
import { makeDbLive } from "../src/layers/DbLive.ts"
import { runMigrations } from "../src/programs/migrate.ts"
import { loader } from "../src/migrations/index.ts"
import { freshDatabase, TestDbLive } from "./support/db.ts"

const migrationCount = Effect.runSync(Effect.orDie(loader)).length

/** The design document's tables and columns, and its ENUM values. */
const designColumns: Record<string, ReadonlyArray<string>> = {
  webhook_subscriptions: ["subscription_id", "store_id", "name", "target_url", "events", "is_active"],
  webhook_deliveries: [
    "delivery_id", "subscription_id", "store_id", "event_type", "event_id", "event_payload", "http_status",
    "response_body", "attempt_number", "next_retry_at", "delivered_at", "status"
  ],
  api_credentials: [
    "credential_id", "store_id", "name", "type", "client_id", "hashed_secret", "scopes", "is_active",
    "last_used_at", "expires_at", "created_by"
  ],
  connector_configs: [
    "config_id", "store_id", "connector_type", "display_name", "is_active", "event_subscriptions", "settings"
  ],
  connector_sync_log: ["direction", "entity_type", "record_count", "status", "error_summary"]
}

const enumValues = (sql: SqlClient, type: string) =>
  sql<{ label: string }>`
    SELECT e.enumlabel AS label FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
    WHERE t.typname = ${type} ORDER BY e.enumsortorder`.pipe(Effect.map((rows) => rows.map((r) => r.label)))

const checkSchema = Effect.gen(function*() {
  const sql = yield* SqlClient
  for (const [table, columns] of Object.entries(designColumns)) {
    const rows = yield* sql<{ column_name: string; data_type: string; udt_name: string }>`
      SELECT column_name, data_type, udt_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ${table}`
    expect(rows.map((r) => r.column_name)).toEqual(expect.arrayContaining([...columns]))
    const types = Object.fromEntries(rows.map((r) => [r.column_name, r.udt_name]))
    if (table === "webhook_subscriptions") {
      expect(types).toMatchObject({ subscription_id: "uuid", events: "_text", is_active: "bool" })
    }
    if (table === "webhook_deliveries") {
      expect(types).toMatchObject({ event_id: "uuid", event_payload: "jsonb", status: "webhook_delivery_status" })
    }
    if (table === "api_credentials") expect(types).toMatchObject({ type: "api_credential_type", scopes: "_text" })
    if (table === "connector_configs") expect(types).toMatchObject({ settings: "jsonb", event_subscriptions: "_text" })
    if (table === "connector_sync_log") expect(types).toMatchObject({ direction: "connector_sync_direction" })
  }
  expect(yield* enumValues(sql, "webhook_delivery_status")).toEqual(["PENDING", "DELIVERED", "FAILED", "DEAD_LETTERED"])
  expect(yield* enumValues(sql, "api_credential_type")).toEqual(["API_KEY", "OAUTH_CLIENT"])
  expect(yield* enumValues(sql, "connector_sync_direction")).toEqual(["INBOUND", "OUTBOUND"])
  const indexes = yield* sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`
  expect(indexes.map((i) => i.indexname)).toEqual(expect.arrayContaining([
    // Due deliveries: per subscription for webhook claims, table-wide for connector runs.
    "webhook_deliveries_subscription_waiting_idx",
    "webhook_deliveries_connector_due_idx",
    // One delivery per event per subscription, and per event per connector config (each its own kind's rows only).
    "webhook_deliveries_subscription_event_idx",
    "webhook_deliveries_config_event_idx",
    "api_credentials_client_id_key"
  ]))
})

describe("migrations on PostgreSQL", () => {
  layer(TestDbLive)((it) => {
    it.effect("create the design document's tables, ENUMs and the indexes the features need", () => checkSchema)

    it.effect("are idempotent: a second run applies nothing", () =>
      Effect.gen(function*() {
        expect(yield* runMigrations).toEqual([])
      }))

    it.effect("a re-consumed event cannot make a second delivery for a subscription", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const sub = crypto.randomUUID()
        const event = crypto.randomUUID()
        yield* sql`INSERT INTO webhook_subscriptions (subscription_id, store_id, name, target_url, events)
                   VALUES (${sub}, 's1', 'n', 'https://example.com', ${["*"]})`
        const insert = sql`INSERT INTO webhook_deliveries (delivery_id, subscription_id, store_id, event_type, event_id, event_payload)
                   VALUES (${crypto.randomUUID()}, ${sub}, 's1', 'order.placed', ${event}, ${JSON.stringify({ a: 1 })}::jsonb)`
        yield* insert
        const second = yield* Effect.either(insert)
        expect(second._tag).toBe("Left")
      }))

    it.scoped("several instances migrating one empty database at once all succeed, and it is migrated once", () =>
      Effect.gen(function*() {
        const url = yield* freshDatabase
        const instance = Effect.scoped(Layer.build(makeDbLive(url, { maxConnections: 3 })).pipe(
          Effect.flatMap((context) => Effect.provide(runMigrations, context))
        ))
        const results = yield* Effect.all([instance, instance, instance], { concurrency: "unbounded" })
        expect(results.map((applied) => applied.length).sort()).toEqual([0, 0, migrationCount])
      }))
  })
})

describe("DbDev (PGlite in-process)", () => {
  // The live clock: PGlite runs on real I/O.
  layer(DbDev(undefined), { excludeTestServices: true })((it) => {
    it.effect("runs the same migrations", () =>
      Effect.gen(function*() {
        expect((yield* runMigrations).length).toBe(migrationCount)
        yield* checkSchema
      }))

    it.effect("never lets a statement run inside another fiber's open transaction", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE IF NOT EXISTS interleave (v TEXT)`
        const inside = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const tx = yield* sql.withTransaction(
          Effect.gen(function*() {
            yield* sql`INSERT INTO interleave VALUES ('tx')`
            yield* Deferred.succeed(inside, undefined)
            yield* Deferred.await(release)
            return yield* Effect.fail("roll back")
          })
        ).pipe(Effect.either, Effect.fork)
        yield* Deferred.await(inside)
        // Issued while the transaction is open: it must wait, not join it and be rolled back with it.
        const outside = yield* Effect.fork(sql`INSERT INTO interleave VALUES ('outside')`)
        // The transaction ends only once that statement is parked (waiting for its turn, or, were it
        // let into the transaction, for PGlite), not after a guessed pause.
        const parked = yield* Fiber.status(outside).pipe(
          Effect.zipLeft(Effect.yieldNow()),
          Effect.repeat({ until: (status) => status._tag !== "Running" })
        )
        expect(parked._tag).toBe("Suspended")
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(tx)
        yield* Fiber.join(outside)
        const rows = yield* sql<{ v: string }>`SELECT v FROM interleave`
        expect(rows.map((r) => r.v)).toEqual(["outside"])
      }))
  })
})
