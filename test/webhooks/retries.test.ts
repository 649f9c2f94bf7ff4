/**
 * The retry table, dead letters, webhook.delivered / webhook.dead_lettered on
 * Kafka, and re-triggers (one delivery, bulk replay): against real PostgreSQL
 * and the real Kafka broker. "Time moves" by making a scheduled retry due in SQL.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import {
  attemptRecorded,
  attemptRows,
  deadLetteredTopic,
  deliveredTopic,
  deliveryRow,
  driveToDeadLetter,
  envelope,
  expectNoMoreRequests,
  makeDue,
  nextRequest,
  publishEvents,
  secondsBetween,
  subscribe,
  tapTopics,
  uniqueStore,
  webhookOutcomeTopics
} from "./deliveryHelpers.ts"

const prefix = `retries-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

/** The SPEC.md table: the wait after failed attempt n before attempt n + 1. */
const table = [60, 5 * 60, 30 * 60, 2 * 60 * 60]

/** A receiver whose answer can be switched while the test runs. */
const switchableReceiver = (initial: number) =>
  Effect.gen(function*() {
    let status = initial
    const receiver = yield* startReceiver((_: ReceivedRequest, res: ServerResponse) => {
      res.statusCode = status
      res.end(status >= 400 ? "failing on purpose" : "")
    })
    return { ...receiver, answer: (next: number) => Effect.sync(() => void (status = next)) }
  })

describe("webhook retries, dead letters and re-triggers (real PostgreSQL and Kafka)", () => {
  // A long enough timeout (and lease) for a receiver that sits on a request while the test acts.
  layer(TestApp({
    eventTopics: new RegExp(`^${prefix}\\.`),
    groupId: prefix,
    isolatedDatabase: true,
    webhookTimeoutMs: 8000,
    workers: { webhookLeaseSeconds: 30 }
  }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("a receiver that always answers 500 goes through the whole retry table, then DEAD_LETTERED and webhook.dead_lettered", () =>
      Effect.gen(function*() {
        const tap = yield* tapTopics(webhookOutcomeTopics)
        const receiver = yield* switchableReceiver(500)
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const event = envelope(storeId)
        yield* publishEvents(topic, [event])

        const first = yield* nextRequest(receiver.received, "20 seconds")
        const deliveryId = first.headers["x-ss3-delivery"] as string
        expect(deliveryId).toMatch(/^[0-9a-f-]{36}$/)

        for (let n = 1; n <= 4; n++) {
          const [row, history] = yield* attemptRecorded(deliveryId, n)
          expect(row).toMatchObject({ status: "FAILED", attempt_number: n, http_status: 500 })
          expect(history.map((a) => a.attempt_number)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
          const attempt = history[n - 1]!
          expect(attempt).toMatchObject({ http_status: 500, error: null, response_body: "failing on purpose" })
          // next_retry_at is the table's delay after this attempt (plus the attempt and its recording).
          const wait = secondsBetween(row.next_retry_at!, attempt.started_at)
          expect(wait, `wait after attempt ${n}`).toBeGreaterThanOrEqual(table[n - 1]! - 1)
          expect(wait, `wait after attempt ${n}`).toBeLessThan(table[n - 1]! + 5)

          // Not due yet: several polls go by without an attempt.
          yield* expectNoMoreRequests(receiver.received, 500)
          expect((yield* deliveryRow(deliveryId)).attempt_number).toBe(n)

          yield* makeDue(deliveryId)
          const retry = yield* nextRequest(receiver.received)
          // The same delivery id on every retry (receiver idempotency), the same body.
          expect(retry.headers["x-ss3-delivery"]).toBe(deliveryId)
          expect(retry.text).toBe(first.text)
        }

        const [row, history] = yield* attemptRecorded(deliveryId, 5)
        expect(row).toMatchObject({ status: "DEAD_LETTERED", attempt_number: 5, next_retry_at: null, http_status: 500 })
        expect(history.map((a) => [a.attempt_number, a.http_status])).toEqual([[1, 500], [2, 500], [3, 500], [4, 500], [5, 500]])

        const [message] = yield* tap.waitFor((m) => m.topic === deadLetteredTopic && m.value["deliveryId"] === deliveryId)
        expect(message!.key).toBe(storeId)
        expect(message!.value).toEqual({
          deliveryId,
          subscriptionId: subscription.id,
          storeId,
          reason: expect.any(String)
        })
        expect(message!.value["reason"]).toContain("500")

        // Dead: no further attempt, even when its row is poked.
        yield* makeDue(deliveryId)
        yield* expectNoMoreRequests(receiver.received, 600)
        expect((yield* attemptRows(deliveryId)).length).toBe(5)
        expect(yield* tap.matching((m) => m.value["deliveryId"] === deliveryId)).toHaveLength(1)

        const detail = yield* adminFetch(`/stores/${storeId}/deliveries/${deliveryId}`)
        expect(detail.body).toMatchObject({ status: "DEAD_LETTERED", attemptNumber: 5, nextRetryAt: null })
        expect(detail.body.attempts).toHaveLength(5)
      }))

    it.scoped("a 2xx answer makes the delivery DELIVERED and publishes webhook.delivered", () =>
      Effect.gen(function*() {
        const tap = yield* tapTopics(webhookOutcomeTopics)
        const receiver = yield* switchableReceiver(204)
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`, ["order.placed", "order.cancelled"])
        yield* publishEvents(topic, [envelope(storeId, "order.cancelled")])

        const request = yield* nextRequest(receiver.received, "20 seconds")
        const deliveryId = request.headers["x-ss3-delivery"] as string
        const [row, history] = yield* attemptRecorded(deliveryId, 1)
        expect(row).toMatchObject({ status: "DELIVERED", attempt_number: 1, http_status: 204, next_retry_at: null })
        expect(row.delivered_at).toBeInstanceOf(Date)
        expect(history).toHaveLength(1)

        const [message] = yield* tap.waitFor((m) => m.value["deliveryId"] === deliveryId)
        expect(message).toEqual({
          topic: deliveredTopic,
          key: storeId,
          value: { deliveryId, subscriptionId: subscription.id, storeId, eventType: "order.cancelled" }
        })
        yield* expectNoMoreRequests(receiver.received, 400)
        expect(yield* tap.matching((m) => m.value["deliveryId"] === deliveryId)).toHaveLength(1)
      }))

    it.scoped("re-triggering a dead-lettered delivery starts a fresh cycle at once, marked X-SS3-Replay; attempt numbers run on (6 after 5) while the table starts over; a delivered one is a 409, an unknown one a 404", () =>
      Effect.gen(function*() {
        const tap = yield* tapTopics(webhookOutcomeTopics)
        const receiver = yield* switchableReceiver(503)
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)
        yield* publishEvents(topic, [envelope(storeId)])
        const original = yield* nextRequest(receiver.received, "20 seconds")
        const deliveryId = original.headers["x-ss3-delivery"] as string
        // A first cycle's attempts are no replay.
        expect(original.headers["x-ss3-replay"]).toBeUndefined()
        yield* driveToDeadLetter(deliveryId)
        yield* Queue.takeAll(receiver.received)

        // Still failing: the re-trigger's attempt goes out at once and the table starts over.
        const retried = yield* adminFetch(`/stores/${storeId}/deliveries/${deliveryId}/retry`, { method: "POST" })
        expect(retried.status).toBe(202)
        // The delivery's count is all its attempts so far: the five of the first cycle.
        expect(retried.body).toMatchObject({ id: deliveryId, status: "PENDING", attemptNumber: 5 })
        const again = yield* nextRequest(receiver.received, "5 seconds")
        expect(again.headers["x-ss3-delivery"]).toBe(deliveryId)
        expect(again.headers["x-ss3-replay"]).toBe("true")

        // Row and history are read in two statements: wait until both show the sixth attempt.
        const [row, history] = yield* eventually(
          Effect.zip(attemptRows(deliveryId), deliveryRow(deliveryId)).pipe(Effect.map(([h, r]) => [r, h] as const)),
          ([r, h]) => h.length === 6 && r.status !== "PENDING"
        )
        // Attempt 6, but the first of its cycle: the table's first wait, not a dead letter.
        expect(row).toMatchObject({ status: "FAILED", attempt_number: 6 })
        const wait = secondsBetween(row.next_retry_at!, history[5]!.started_at)
        expect(wait).toBeGreaterThanOrEqual(table[0]! - 1)
        expect(wait).toBeLessThan(table[0]! + 5)
        expect(history.map((a) => a.attempt_number)).toEqual([1, 2, 3, 4, 5, 6])

        // A FAILED delivery can be re-triggered too; this time the receiver takes it.
        yield* receiver.answer(200)
        const failedRetry = yield* adminFetch(`/stores/${storeId}/deliveries/${deliveryId}/retry`, { method: "POST" })
        expect(failedRetry.status).toBe(202)
        expect(failedRetry.body).toMatchObject({ status: "PENDING", attemptNumber: 6 })
        expect((yield* nextRequest(receiver.received, "5 seconds")).headers["x-ss3-replay"]).toBe("true")
        const detail = yield* eventually(
          adminFetch(`/stores/${storeId}/deliveries/${deliveryId}`),
          (r) => r.body?.status === "DELIVERED"
        )
        expect(detail.body.attemptNumber).toBe(7)
        expect(detail.body.attempts.map((a: any) => [a.attemptNumber, a.httpStatus])).toEqual([
          [1, 503], [2, 503], [3, 503], [4, 503], [5, 503], [6, 503], [7, 200]
        ])
        yield* tap.waitFor((m) => m.topic === deliveredTopic && m.value["deliveryId"] === deliveryId)
        // One dead letter (the first cycle), one delivered.
        expect((yield* tap.matching((m) => m.value["deliveryId"] === deliveryId)).map((m) => m.topic).sort()).toEqual([
          deadLetteredTopic,
          deliveredTopic
        ])

        const delivered = yield* adminFetch(`/stores/${storeId}/deliveries/${deliveryId}/retry`, { method: "POST" })
        expect(delivered.status).toBe(409)
        expect(delivered.body).toMatchObject({ error: expect.any(String), message: expect.stringContaining("DELIVERED") })

        const unknown = yield* adminFetch(`/stores/${storeId}/deliveries/${randomUUID()}/retry`, { method: "POST" })
        expect(unknown.status).toBe(404)
        // Another store's delivery is unknown here.
        const elsewhere = yield* adminFetch(`/stores/${uniqueStore()}/deliveries/${deliveryId}/retry`, { method: "POST" })
        expect(elsewhere.status).toBe(404)

        yield* expectNoMoreRequests(receiver.received, 400)
        expect((yield* attemptRows(deliveryId)).length).toBe(7)
      }))

    it.scoped("bulk replay re-triggers the store's dead letters created since the given time, and they are attempted again", () =>
      Effect.gen(function*() {
        const receiver = yield* switchableReceiver(500)
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)

        const takeIds = (n: number) =>
          Effect.forEach(Array.from({ length: n }), () => nextRequest(receiver.received, "20 seconds")).pipe(
            Effect.map((requests) => requests.map((r) => r.headers["x-ss3-delivery"] as string))
          )
        // An older dead letter, outside the `since` window.
        yield* publishEvents(topic, [envelope(storeId)])
        const [old] = yield* takeIds(1)
        yield* driveToDeadLetter(old!)
        yield* Queue.takeAll(receiver.received)

        yield* publishEvents(topic, [envelope(storeId), envelope(storeId)])
        const recent = [...new Set(yield* takeIds(2))]
        expect(recent).toHaveLength(2)
        yield* Effect.forEach(recent, driveToDeadLetter, { concurrency: "unbounded" })
        yield* Queue.takeAll(receiver.received)
        // One more that is DELIVERED: not a dead letter, so not replayed.
        yield* receiver.answer(200)
        yield* publishEvents(topic, [envelope(storeId)])
        const [ok] = yield* takeIds(1)
        yield* attemptRecorded(ok!, 1)
        yield* Queue.takeAll(receiver.received)

        // `since` = the earlier of the two recent ones' creation time (as the API shows it).
        const list = yield* adminFetch(`/stores/${storeId}/deliveries?status=DEAD_LETTERED`)
        expect(list.body.items.map((d: any) => d.id).sort()).toEqual([old!, ...recent].sort())
        const sinceTime = list.body.items
          .filter((d: any) => recent.includes(d.id))
          .map((d: any) => d.createdAt as string)
          .sort()[0]

        const replay = yield* adminFetch(`/stores/${storeId}/deliveries/retry`, {
          method: "POST",
          body: { status: "DEAD_LETTERED", since: sinceTime }
        })
        expect(replay.status).toBe(202)
        expect(replay.body).toEqual({ retried: 2 })

        const replayed = yield* takeIds(2)
        expect(replayed.sort()).toEqual([...recent].sort())
        for (const id of recent) {
          const [row, history] = yield* attemptRecorded(id, 6)
          expect(row).toMatchObject({ status: "DELIVERED", attempt_number: 6 })
          expect(history.map((a) => a.attempt_number)).toEqual([1, 2, 3, 4, 5, 6])
        }
        expect(yield* deliveryRow(old!)).toMatchObject({ status: "DEAD_LETTERED", attempt_number: 5 })
        expect(yield* deliveryRow(ok!)).toMatchObject({ status: "DELIVERED", attempt_number: 1 })
        yield* expectNoMoreRequests(receiver.received, 400)

        // Nothing dead-lettered is left since then: a second replay finds nothing.
        const none = yield* adminFetch(`/stores/${storeId}/deliveries/retry`, {
          method: "POST",
          body: { status: "DEAD_LETTERED", since: sinceTime }
        })
        expect(none.body).toEqual({ retried: 0 })
      }))

    it.scoped("a delivery whose retry is in flight can't be re-triggered (409, bulk replay skips it): attempts never overlap and all stay on record", () =>
      Effect.gen(function*() {
        // Fails the first POST; holds every later one open until the test lets go.
        let open = 0
        let maxOpen = 0
        let seen = 0
        const held: Array<ServerResponse> = []
        const receiver = yield* startReceiver((_, res) => {
          if (++seen === 1) {
            res.statusCode = 500
            res.end()
            return
          }
          maxOpen = Math.max(maxOpen, ++open)
          held.push(res)
        })
        const letGo = Effect.sync(() => {
          for (const res of held.splice(0)) {
            open--
            res.end("ok")
          }
        })
        yield* Effect.addFinalizer(() => letGo)
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`)
        yield* publishEvents(topic, [envelope(storeId)])
        const deliveryId = (yield* nextRequest(receiver.received, "20 seconds")).headers["x-ss3-delivery"] as string
        expect((yield* attemptRecorded(deliveryId, 1))[0].status).toBe("FAILED")

        // Its retry goes out and the receiver sits on it: the delivery is FAILED and leased meanwhile.
        yield* makeDue(deliveryId)
        yield* nextRequest(receiver.received)
        expect(yield* deliveryRow(deliveryId)).toMatchObject({ status: "FAILED", attempt_number: 1 })

        const single = yield* adminFetch(`/stores/${storeId}/deliveries/${deliveryId}/retry`, { method: "POST" })
        expect(single.status).toBe(409)
        expect(single.body.message).toMatch(/in flight/)
        const bulk = yield* adminFetch(`/stores/${storeId}/deliveries/retry`, { method: "POST", body: { status: "FAILED" } })
        expect(bulk.body).toEqual({ retried: 0 })
        yield* expectNoMoreRequests(receiver.received, 500)
        expect(maxOpen).toBe(1)

        yield* letGo
        const [row, history] = yield* attemptRecorded(deliveryId, 2)
        expect(row).toMatchObject({ status: "DELIVERED", attempt_number: 2 })
        expect(history.map((a) => [a.attempt_number, a.http_status])).toEqual([[1, 500], [2, 200]])
        yield* expectNoMoreRequests(receiver.received, 300)
      }))
  })
})
