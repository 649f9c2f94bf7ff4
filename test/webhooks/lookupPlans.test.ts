/**
 * Statements that find deliveries by id reach them through the primary key
 * even while the planner's statistics say almost nothing waits, as right after
 * a fan-out: analyzed when every delivery was delivered, the table then takes
 * thousands of waiting rows, and a claim, a result and a lease renewal of a few
 * of them must not scan those thousands (a claim of 256 ids took 400 ms so).
 * The plans are read with EXPLAIN, not timed. Real PostgreSQL, a database of
 * this file's own, no engine running.
 */
import type { Statement } from "@effect/sql/Statement"
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { claimWebhooks, renewal } from "../../src/layers/deliveryStore/claims.ts"
import { resultsRecorded } from "../../src/layers/deliveryStore/recording.ts"
import type { AttemptResult } from "../../src/services/DeliveryStore.ts"
import { TestApp } from "../support/app.ts"
import { subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `plans-${randomUUID().slice(0, 8)}`

interface PlanNode {
  readonly "Node Type": string
  readonly "Relation Name"?: string
  readonly "Index Name"?: string
  readonly Plans?: ReadonlyArray<PlanNode>
}

/** The indexes a bitmap scan combines. */
const bitmapIndexes = (node: PlanNode): Array<string> =>
  node["Index Name"] !== undefined ? [node["Index Name"]] : (node.Plans ?? []).flatMap(bitmapIndexes)

/** How each scan of webhook_deliveries in the plan reads it ("Seq Scan", or the indexes' names). */
const deliveryScans = (node: PlanNode): Array<string> => {
  if (node["Relation Name"] === "webhook_deliveries" && node["Node Type"] !== "ModifyTable") {
    return node["Node Type"] === "Bitmap Heap Scan"
      ? (node.Plans ?? []).flatMap(bitmapIndexes)
      : [node["Index Name"] ?? node["Node Type"]]
  }
  return (node.Plans ?? []).flatMap(deliveryScans)
}

const scansOf = (statement: Statement<unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const [text, params] = statement.compile()
    const rows = yield* sql.unsafe<{ "QUERY PLAN": ReadonlyArray<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${text}`, params)
    return deliveryScans(rows[0]!["QUERY PLAN"][0]!.Plan)
  })

describe("lookups of deliveries by id on stale statistics (real PostgreSQL)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("a result and a lease renewal read webhook_deliveries through its primary key only, a claim by id through it and the waiting index", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, "http://127.0.0.1:9/hook")
        const insert = (n: number, status: string) =>
          sql`INSERT INTO webhook_deliveries
                (delivery_id, subscription_id, store_id, event_type, event_id, event_payload, payload_bytes, next_retry_at, status)
              SELECT gen_random_uuid(), ${subscription.id}::uuid, ${storeId}, 'order.placed', gen_random_uuid(),
                     '{"a":1}'::jsonb, 7, now() - interval '1 second', ${status}::webhook_delivery_status
              FROM generate_series(1, ${n})`
        // Statistics taken when everything was delivered; then a fan-out's worth arrives.
        yield* insert(3000, "DELIVERED")
        yield* sql`ANALYZE webhook_deliveries`
        yield* insert(6000, "PENDING")
        const ids = (yield* sql<{ id: string }>`
          SELECT delivery_id::text AS id FROM webhook_deliveries WHERE status = 'PENDING' LIMIT 50`).map((r) => r.id)

        const claim = claimWebhooks(sql, { lane: "webhook", ids, limit: 50, leaseSeconds: 30, owner: "plans", finished: ids.slice(0, 5) })
        const result = (id: string): AttemptResult => ({
          deliveryId: id,
          subscriptionId: subscription.id,
          connector: null,
          storeId,
          eventType: "order.placed",
          attemptNumber: 1,
          cycleAttempts: 1,
          startedAt: new Date(),
          durationMs: 3,
          httpStatus: 200,
          responseBody: "ok",
          error: null,
          status: "DELIVERED",
          retryInMs: null,
          reason: null
        })
        const record = sql`WITH ${resultsRecorded(sql, ids.map(result), () => [])} SELECT delivery_id FROM updated`
        const renew = renewal(sql, ids, "plans", 30)

        for (const statement of [record, renew]) {
          const scans = yield* scansOf(statement)
          expect(scans.length).toBeGreaterThan(0)
          expect(scans.filter((scan) => scan !== "webhook_deliveries_pkey")).toEqual([])
        }
        // A claim by id also looks for its subscriptions' older waiting deliveries (they go out
        // first): through the subscription's waiting index, bounded by time and room, never a scan.
        const claimScans = yield* scansOf(claim)
        expect(claimScans).toContain("webhook_deliveries_pkey")
        expect(claimScans.filter((scan) => scan !== "webhook_deliveries_pkey" && scan !== "webhook_deliveries_subscription_waiting_idx"))
          .toEqual([])
      }).pipe(Effect.orDie))
  })
})
