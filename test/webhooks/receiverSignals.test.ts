/**
 * What a receiver can say besides yes or no: `Retry-After` on 429/503 (in
 * seconds or as an HTTP date) pushes the next attempt out, never earlier than
 * the table, at most 2 h; `410 Gone` switches the subscription off at once,
 * keeps its waiting deliveries and announces webhook.endpoint_disabled on
 * Kafka. Real PostgreSQL and Kafka.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Option, Queue } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { endpointDisabledTopic } from "../../src/domain/webhooks/events.ts"
import { retryAfterMs, waitBeforeRetry } from "../../src/domain/webhooks/receiverSignals.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import {
  attemptRecorded,
  deliveryRow,
  envelope,
  expectNoMoreRequests,
  makeDue,
  nextRequest,
  publishEvents,
  secondsBetween,
  subscribe,
  tapTopics,
  uniqueStore
} from "./deliveryHelpers.ts"

const prefix = `signals-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`
const hours2 = 2 * 60 * 60

describe("Retry-After values", () => {
  const now = Date.parse("2026-03-01T12:00:00Z")
  it("reads delta-seconds and HTTP dates, caps them at 2 hours, and ignores what it cannot read", () => {
    expect(retryAfterMs("120", now)).toEqual(Option.some(120_000))
    expect(retryAfterMs(" 0 ", now)).toEqual(Option.some(0))
    expect(retryAfterMs("86400", now)).toEqual(Option.some(hours2 * 1000))
    expect(retryAfterMs("Sun, 01 Mar 2026 12:40:00 GMT", now)).toEqual(Option.some(40 * 60_000))
    expect(retryAfterMs("Sun, 01 Mar 2026 11:00:00 GMT", now)).toEqual(Option.some(0))
    expect(retryAfterMs("Mon, 02 Mar 2026 12:00:00 GMT", now)).toEqual(Option.some(hours2 * 1000))
    for (const bad of [undefined, "", "-5", "1.5", "soon", "12abc", "\u0000", "9".repeat(200), "2026-13-45"]) {
      expect(retryAfterMs(bad, now), JSON.stringify(bad)).toEqual(Option.none())
    }
  })

  it("only ever makes the table's wait longer", () => {
    expect(waitBeforeRetry(60_000, Option.some(5_000))).toBe(60_000)
    expect(waitBeforeRetry(60_000, Option.some(600_000))).toBe(600_000)
    expect(waitBeforeRetry(300_000, Option.none())).toBe(300_000)
  })
})

/** A receiver whose status and headers the test sets per request. */
const scriptedReceiver = Effect.gen(function*() {
  let answer: { status: number; headers?: Record<string, string> } = { status: 200 }
  const receiver = yield* startReceiver((_: ReceivedRequest, res: ServerResponse) => {
    res.statusCode = answer.status
    for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v)
    res.end()
  })
  return { ...receiver, answer: (next: typeof answer) => Effect.sync(() => void (answer = next)) }
})

describe("receiver signals (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    /** One delivery's first attempt answered as `answer` says: the wait its row was given, in seconds. */
    const waitAfter = (answer: { status: number; headers?: Record<string, string> }) =>
      Effect.gen(function*() {
        const receiver = yield* scriptedReceiver
        yield* receiver.answer(answer)
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)
        yield* publishEvents(topic, [envelope(storeId)])
        const deliveryId = (yield* nextRequest(receiver.received, "20 seconds")).headers["x-ss3-delivery"] as string
        const [row, history] = yield* attemptRecorded(deliveryId, 1)
        expect(row.status).toBe("FAILED")
        return secondsBetween(row.next_retry_at!, history[0]!.started_at)
      })

    it.scoped("429 with Retry-After in seconds: the next attempt is not before it", () =>
      Effect.gen(function*() {
        const wait = yield* waitAfter({ status: 429, headers: { "retry-after": "3000" } })
        expect(wait).toBeGreaterThanOrEqual(3000 - 1)
        expect(wait).toBeLessThan(3000 + 5)
      }))

    it.scoped("503 with Retry-After as an HTTP date: the next attempt is not before that date", () =>
      Effect.gen(function*() {
        const before = Date.now()
        const at = new Date(Math.ceil(before / 1000) * 1000 + 40 * 60_000)
        const wait = yield* waitAfter({ status: 503, headers: { "retry-after": at.toUTCString() } })
        // The attempt started between `before` and now: the wait is what was left until `at` then (however slow the way there).
        const after = Date.now()
        expect(wait).toBeGreaterThanOrEqual((at.getTime() - after) / 1000 - 1)
        expect(wait).toBeLessThan((at.getTime() - before) / 1000 + 5)
      }))

    it.scoped("Retry-After never makes the wait shorter than the table, nor longer than 2 hours; other statuses' Retry-After is ignored", () =>
      Effect.gen(function*() {
        const short = yield* waitAfter({ status: 429, headers: { "retry-after": "5" } })
        expect(short).toBeGreaterThanOrEqual(60 - 1)
        expect(short).toBeLessThan(60 + 5)
        const long = yield* waitAfter({ status: 503, headers: { "retry-after": String(7 * 24 * 3600) } })
        expect(long).toBeGreaterThanOrEqual(hours2 - 1)
        expect(long).toBeLessThan(hours2 + 5)
        const ignored = yield* waitAfter({ status: 500, headers: { "retry-after": "3000" } })
        expect(ignored).toBeLessThan(60 + 5)
        const unreadable = yield* waitAfter({ status: 429, headers: { "retry-after": "after lunch" } })
        expect(unreadable).toBeLessThan(60 + 5)
      }))

    it.scoped("410 Gone disables the subscription at once, keeps every waiting delivery and publishes webhook.endpoint_disabled; switched on again, the backlog flows", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const tap = yield* tapTopics(/^webhook\.endpoint_disabled$/)
        const receiver = yield* scriptedReceiver
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)

        // One delivery already waiting for its retry (and on its last attempt of the cycle).
        yield* receiver.answer({ status: 500 })
        yield* publishEvents(topic, [envelope(storeId)])
        const waiting = (yield* nextRequest(receiver.received, "20 seconds")).headers["x-ss3-delivery"] as string
        yield* attemptRecorded(waiting, 1)
        yield* sql`UPDATE webhook_deliveries SET cycle_attempts = 4, attempt_number = 4 WHERE delivery_id = ${waiting}::uuid`
        yield* sql`UPDATE webhook_delivery_attempts SET attempt_number = 4 WHERE delivery_id = ${waiting}::uuid`

        // Its last retry gets a 410: not dead-lettered, the subscription switched off.
        yield* receiver.answer({ status: 410 })
        yield* makeDue(waiting)
        yield* nextRequest(receiver.received)
        const row = yield* eventually(deliveryRow(waiting), (r) => r.attempt_number === 5)
        expect(row).toMatchObject({ status: "FAILED", attempt_number: 5, http_status: 410 })

        const shown = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`)
        expect(shown.body).toMatchObject({ isActive: false, disabledReason: expect.stringContaining("410") })
        const [message] = yield* tap.waitFor((m) => m.value["subscriptionId"] === subscription.id)
        expect(message).toEqual({
          topic: endpointDisabledTopic,
          key: storeId,
          value: { subscriptionId: subscription.id, storeId, reason: expect.stringContaining("410") }
        })

        // Events for it meanwhile: no delivery (inactive), nothing attempted, nothing dead-lettered.
        yield* publishEvents(topic, [envelope(storeId)])
        yield* makeDue(waiting)
        yield* expectNoMoreRequests(receiver.received, 800)
        expect((yield* deliveryRow(waiting)).status).toBe("FAILED")
        const dead = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries
          WHERE subscription_id = ${subscription.id}::uuid AND status = 'DEAD_LETTERED'`
        expect(dead[0]!.n).toBe(0)

        // Switched on again: the waiting delivery goes out (the 410 spent none of its cycle) and is delivered.
        yield* receiver.answer({ status: 200 })
        const resumed = yield* adminFetch(`/stores/${storeId}/webhooks/${subscription.id}`, { method: "PATCH", body: { isActive: true } })
        expect(resumed.body).toMatchObject({ isActive: true, disabledReason: null })
        yield* makeDue(waiting)
        const again = yield* nextRequest(receiver.received)
        expect(again.headers["x-ss3-delivery"]).toBe(waiting)
        yield* eventually(deliveryRow(waiting), (r) => r.status === "DELIVERED")
        yield* Queue.takeAll(receiver.received)
        expect(yield* tap.matching((m) => m.value["subscriptionId"] === subscription.id)).toHaveLength(1)
      }))
  })
})
