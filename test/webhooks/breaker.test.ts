/**
 * The circuit breaker, auto-disable and recover: after N failed attempts in a
 * row (3 here, 20 by default) an endpoint is paused — its due deliveries wait
 * and spend nothing — one probe goes out per interval, a success closes it and
 * the backlog flows; failing without a success for 5 days disables it (as
 * 410 does) without dead-lettering anything; recover queues again what did not
 * succeed. "Time moves" in SQL (the probe's time, the failing-since time), as
 * in the retry tests: no real waits. Real PostgreSQL and Kafka.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { tallyAttempts } from "../../src/domain/webhooks/breaker.ts"
import { endpointDisabledTopic } from "../../src/domain/webhooks/events.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import {
  attemptRecorded,
  envelope,
  expectNoMoreRequests,
  makeDue,
  nextRequest,
  publishEvents,
  storeDeliveries,
  subscribe,
  tapTopics,
  uniqueStore
} from "./deliveryHelpers.ts"

const prefix = `breaker-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

describe("the breaker's tally of a batch", () => {
  it("counts failures after the last success, in the order the attempts started", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s))
    const [a, b] = tallyAttempts([
      { subscriptionId: "b", ok: false, at: at(5) },
      { subscriptionId: "a", ok: false, at: at(3) },
      { subscriptionId: "a", ok: true, at: at(2) },
      { subscriptionId: "a", ok: false, at: at(1) },
      { subscriptionId: "a", ok: false, at: at(4) }
    ])
    expect(a).toEqual({
      subscriptionId: "a",
      succeeded: true,
      lastSuccessAt: at(2),
      failures: 2,
      firstFailureAt: at(3),
      lastFailureAt: at(4)
    })
    expect(b).toMatchObject({ subscriptionId: "b", succeeded: false, failures: 1, lastSuccessAt: null })
  })
})

interface EndpointRow {
  readonly consecutive_failures: number
  readonly paused_until: Date | null
  readonly failing_since: Date | null
  readonly last_success_at: Date | null
  readonly is_active: boolean
}

const endpointRow = (subscriptionId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<EndpointRow>`SELECT consecutive_failures, paused_until, failing_since, last_success_at, is_active
      FROM webhook_subscriptions WHERE subscription_id = ${subscriptionId}::uuid`).pipe(
    Effect.orDie,
    Effect.map((rows) => rows[0]!)
  )

const switchable = (initial: number) =>
  Effect.gen(function*() {
    let status = initial
    const receiver = yield* startReceiver((_: ReceivedRequest, res: ServerResponse) => {
      res.statusCode = status
      res.end()
    })
    return { ...receiver, answer: (next: number) => Effect.sync(() => void (status = next)) }
  })

describe("circuit breaker, auto-disable and recover (real PostgreSQL and Kafka)", () => {
  layer(TestApp({
    eventTopics: new RegExp(`^${prefix}\\.`),
    groupId: prefix,
    isolatedDatabase: true,
    webhookBreaker: { failureThreshold: 3 }
  }), { excludeTestServices: true, timeout: 90_000 })((it) => {
    it.scoped("after 3 failures in a row the endpoint is paused: due deliveries wait and spend nothing, one probe per interval, a success closes it and the backlog flows", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const receiver = yield* switchable(500)
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const probeNow = sql`UPDATE webhook_subscriptions SET paused_until = now()
          WHERE subscription_id = ${subscription.id}::uuid`

        yield* publishEvents(topic, [envelope(storeId), envelope(storeId), envelope(storeId)])
        const firsts = yield* Effect.forEach([1, 2, 3], () => nextRequest(receiver.received, "20 seconds"))
        const failedIds = firsts.map((r) => r.headers["x-ss3-delivery"] as string)
        for (const id of failedIds) yield* attemptRecorded(id, 1)
        const opened = yield* eventually(endpointRow(subscription.id), (r) => r.paused_until !== null)
        expect(opened.consecutive_failures).toBe(3)
        // The next probe a probe interval (60 s) away.
        expect(opened.paused_until!.getTime() - Date.now()).toBeGreaterThan(50_000)

        // Paused: new deliveries and due retries all wait; nothing is attempted, nothing spent.
        yield* publishEvents(topic, [envelope(storeId), envelope(storeId)])
        const all = yield* eventually(storeDeliveries(storeId), (rows) => rows.length === 5, "20 seconds")
        for (const id of failedIds) yield* makeDue(id)
        yield* expectNoMoreRequests(receiver.received, 1000)
        const waiting = yield* storeDeliveries(storeId)
        expect(waiting.map((r) => r.attempt_number).sort()).toEqual([0, 0, 1, 1, 1])
        expect(waiting.every((r) => r.status === "PENDING" || r.status === "FAILED")).toBe(true)
        // Health, in show and in the list.
        const paused = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`)
        expect(paused.body.health).toEqual({
          state: "paused",
          consecutiveFailures: 3,
          lastSuccessAt: null,
          lastFailureAt: expect.any(String),
          backlog: 5
        })
        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.body.items[0].health).toEqual(paused.body.health)

        // The probe's time: exactly one attempt, which fails; the breaker stays open for another interval.
        yield* probeNow
        const probe = yield* nextRequest(receiver.received)
        const probeId = probe.headers["x-ss3-delivery"] as string
        yield* expectNoMoreRequests(receiver.received, 800)
        const afterProbe = yield* eventually(endpointRow(subscription.id), (r) => r.consecutive_failures === 4)
        expect(afterProbe.paused_until!.getTime() - Date.now()).toBeGreaterThan(50_000)
        const [probed] = yield* sql<{ cycle_attempts: number; status: string }>`
          SELECT cycle_attempts, status::text AS status FROM webhook_deliveries WHERE delivery_id = ${probeId}::uuid`
        // The failed probe spent none of that delivery's cycle.
        expect(probed!.status).not.toBe("DEAD_LETTERED")
        expect(probed!.cycle_attempts).toBe(all.find((r) => r.delivery_id === probeId)!.attempt_number)

        // The receiver is back: the next probe succeeds, the breaker closes, the backlog flows.
        yield* receiver.answer(200)
        yield* probeNow
        yield* nextRequest(receiver.received)
        const closed = yield* eventually(endpointRow(subscription.id), (r) => r.paused_until === null)
        expect(closed).toMatchObject({ consecutive_failures: 0, failing_since: null })
        expect(closed.last_success_at).toBeInstanceOf(Date)
        const healthy = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`)
        expect(healthy.body.health).toMatchObject({ state: "healthy", consecutiveFailures: 0, lastSuccessAt: expect.any(String) })
        yield* sql`UPDATE webhook_deliveries SET next_retry_at = now() WHERE store_id = ${storeId} AND status = 'FAILED'`
        const done = yield* eventually(storeDeliveries(storeId), (rows) => rows.every((r) => r.status === "DELIVERED"), "20 seconds")
        expect(done).toHaveLength(5)
        yield* Queue.takeAll(receiver.received)
      }))

    it.scoped("failing without a success for 5 days disables the endpoint (webhook.endpoint_disabled), dead-letters nothing; recover queues again what did not succeed since then", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const tap = yield* tapTopics(/^webhook\.endpoint_disabled$/)
        const receiver = yield* switchable(500)
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const since = new Date(Date.now() - 1000).toISOString()

        yield* publishEvents(topic, [envelope(storeId), envelope(storeId)])
        const ids = (yield* Effect.forEach([1, 2], () => nextRequest(receiver.received, "20 seconds")))
          .map((r) => r.headers["x-ss3-delivery"] as string)
        for (const id of ids) yield* attemptRecorded(id, 1)
        const failing = yield* eventually(
          adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`),
          (r) => r.body.health.consecutiveFailures === 2
        )
        expect(failing.body.health).toMatchObject({ state: "failing", backlog: 2, lastSuccessAt: null })
        // One of them had already run through its table (a dead letter of this outage).
        yield* sql`UPDATE webhook_deliveries SET status = 'DEAD_LETTERED', next_retry_at = NULL WHERE delivery_id = ${ids[1]!}::uuid`

        // Five days and a minute of failing, then one more failure.
        yield* sql`UPDATE webhook_subscriptions SET failing_since = now() - interval '5 days 1 minute'
          WHERE subscription_id = ${subscription.id}::uuid`
        yield* makeDue(ids[0]!)
        yield* nextRequest(receiver.received)
        const shown = yield* eventually(
          adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`),
          (r) => r.body.isActive === false
        )
        expect(shown.body.disabledReason).toMatch(/failing without a success since/)
        expect(shown.body.health).toMatchObject({ state: "disabled", backlog: 1 })
        const [message] = yield* tap.waitFor((m) => m.value["subscriptionId"] === subscription.id)
        expect(message!.value).toEqual({ subscriptionId: subscription.id, storeId, reason: shown.body.disabledReason })
        const kept = yield* storeDeliveries(storeId)
        expect(kept.map((r) => r.status).sort()).toEqual(["DEAD_LETTERED", "FAILED"])
        yield* makeDue(ids[0]!)
        yield* expectNoMoreRequests(receiver.received, 800)

        // Recover: switched on, both queued again as replays, delivered.
        yield* receiver.answer(200)
        const recovered = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}/recover`, {
          method: "POST",
          body: { since }
        })
        expect(recovered.status).toBe(202)
        expect(recovered.body).toEqual({ recovered: 2 })
        const replays = yield* Effect.forEach([1, 2], () => nextRequest(receiver.received))
        expect(replays.map((r) => r.headers["x-ss3-replay"])).toEqual(["true", "true"])
        expect(replays.map((r) => r.headers["x-ss3-delivery"]).sort()).toEqual([...ids].sort())
        yield* eventually(storeDeliveries(storeId), (rows) => rows.every((r) => r.status === "DELIVERED"))
        const after = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`)
        expect(after.body).toMatchObject({ isActive: true, disabledReason: null })
        expect(yield* tap.matching((m) => m.value["subscriptionId"] === subscription.id)).toHaveLength(1)
        expect(message!.topic).toBe(endpointDisabledTopic)

        // Nothing left to recover since then.
        const again = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}/recover`, { method: "POST", body: { since } })
        expect(again.body).toEqual({ recovered: 0 })
      }))

    it.scoped("recover with a body that does not decode is a 400 naming since; an unknown subscription is a 404", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, "http://127.0.0.1:9/unused")
        const path = `/stores/${storeId}/webhooks/${subscription.id}/recover`
        for (const body of [{}, { since: "yesterday" }, { since: 5 }, { since: "2026-01-01T00:00:00Z\u0000" }, { since: "\ud800" }]) {
          const r = yield* adminFetch(path, { method: "POST", body })
          expect(r.status, JSON.stringify(body)).toBe(400)
          expect(JSON.stringify(r.body)).toContain("since")
        }
        const extra = yield* adminFetch(path, { method: "POST", body: { since: new Date().toISOString(), all: true } })
        expect(extra.status).toBe(400)
        expect(JSON.stringify(extra.body)).toContain("all")
        const unknown = yield* adminFetch(`/stores/${storeId}/webhooks/${randomUUID()}/recover`, {
          method: "POST",
          body: { since: new Date().toISOString() }
        })
        expect(unknown.status).toBe(404)
        const elsewhere = yield* adminFetch(`/stores/${uniqueStore()}/webhooks/${subscription.id}/recover`, {
          method: "POST",
          body: { since: new Date().toISOString() }
        })
        expect(elsewhere.status).toBe(404)
      }))
  })
})
