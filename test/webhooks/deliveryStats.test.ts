/**
 * GET /stores/{storeId}/deliveries/stats: attempts per minute by outcome, the
 * backlog and the dead letters of the last day, for one store only. Real
 * PostgreSQL and Kafka.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"
import { driveToDeadLetter, envelope, nextRequest, publishEvents, storeDeliveries, subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `stats-${randomUUID().slice(0, 8)}`

describe("delivery stats (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("counts a store's attempts per minute by outcome, its backlog and its dead letters; another store sees none of it", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver((request, res) => {
          res.statusCode = request.path === "/ok" ? 200 : 500
          res.end()
        })
        const storeId = uniqueStore()
        const okSub = yield* subscribe(storeId, `${receiver.url}/ok`, ["order.placed"])
        yield* subscribe(storeId, `${receiver.url}/fail`, ["order.shipped"])
        yield* publishEvents(`${prefix}.orders`, [
          ...Array.from({ length: 4 }, () => envelope(storeId, "order.placed")),
          ...Array.from({ length: 2 }, () => envelope(storeId, "order.shipped"))
        ])
        yield* Effect.forEach(Array.from({ length: 6 }), () => nextRequest(receiver.received))
        const rows = yield* eventually(storeDeliveries(storeId), (rs) => rs.length === 6 && rs.every((r) => r.status !== "PENDING"))
        const failing = rows.find((r) => r.status === "FAILED")!
        yield* driveToDeadLetter(failing.delivery_id)

        const stats = yield* eventually(
          adminFetch(`/stores/${storeId}/deliveries/stats?minutes=10`),
          (r) => r.status === 200 && r.body.deadLetteredLast24h === 1
        )
        const totals = (stats.body.perMinute as Array<{ delivered: number; failed: number; deadLettered: number }>).reduce(
          (sum, m) => ({ delivered: sum.delivered + m.delivered, failed: sum.failed + m.failed, deadLettered: sum.deadLettered + m.deadLettered }),
          { delivered: 0, failed: 0, deadLettered: 0 }
        )
        expect(totals).toEqual({ delivered: 4, failed: 2 + 4, deadLettered: 1 })
        expect(stats.body.backlog).toMatchObject({ pending: 0, failed: 1 })
        expect(Date.parse(stats.body.backlog.oldestDueAt)).toBeGreaterThan(Date.now())
        expect(Date.parse(stats.body.since)).toBeLessThanOrEqual(Date.now() - 9 * 60_000)

        // One subscription's own numbers.
        const okOnly = yield* adminFetch(`/stores/${storeId}/deliveries/stats?minutes=10&subscriptionId=${okSub.id}`)
        const okFailed = (okOnly.body.perMinute as Array<{ failed: number }>).reduce((n, m) => n + m.failed, 0)
        expect(okFailed).toBe(0)
        expect(okOnly.body.backlog.failed).toBe(0)

        const other = yield* adminFetch(`/stores/${uniqueStore()}/deliveries/stats`)
        expect(other.body).toMatchObject({ perMinute: [], backlog: { pending: 0, failed: 0, oldestDueAt: null }, deadLetteredLast24h: 0 })
        expect((yield* adminFetch(`/stores/${storeId}/deliveries/stats?minutes=0`)).status).toBe(400)
      }))
  })
})
