/**
 * What a receiver does to an attempt — times out, resets the connection,
 * redirects, refuses the connection, answers 500, answers 204 — and how each is
 * recorded (status, http_status, error, the retry scheduled). Webhook timeout: 500 ms.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import {
  attemptRecorded,
  envelope,
  expectNoMoreRequests,
  nextRequest,
  publishEvents,
  secondsBetween,
  storeDeliveries,
  subscribe,
  uniqueStore
} from "./deliveryHelpers.ts"

const prefix = `receivers-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`
const timeoutMs = 500

/**
 * One event to a new store whose one subscription points at `targetUrl`; waits
 * for its first attempt to be recorded and answers the delivery as the API shows it.
 */
const firstAttempt = (targetUrl: (storeId: string) => string) =>
  Effect.gen(function*() {
    const storeId = uniqueStore()
    yield* subscribe(storeId, targetUrl(storeId))
    yield* publishEvents(topic, [envelope(storeId)])
    const [row] = yield* eventually(storeDeliveries(storeId), (rows) => rows.length === 1, "20 seconds")
    const [delivery, attempts] = yield* attemptRecorded(row!.delivery_id, 1)
    const detail = yield* adminFetch(`/stores/${storeId}/deliveries/${row!.delivery_id}`)
    expect(detail.status).toBe(200)
    expect(detail.body.attempts).toHaveLength(1)
    return { storeId, delivery, attempt: attempts[0]!, detail: detail.body }
  })

/** A failed first attempt: FAILED, the second attempt a minute after it. */
const expectFailedFirstAttempt = (result: Effect.Effect.Success<ReturnType<typeof firstAttempt>>) => {
  expect(result.delivery).toMatchObject({ status: "FAILED", attempt_number: 1 })
  const wait = secondsBetween(result.delivery.next_retry_at!, result.attempt.started_at)
  expect(wait).toBeGreaterThanOrEqual(59)
  expect(wait).toBeLessThan(65)
  expect(result.detail).toMatchObject({ status: "FAILED", attemptNumber: 1 })
}

describe("webhook receivers that misbehave (real PostgreSQL and Kafka)", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, webhookTimeoutMs: timeoutMs }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.scoped("an answer that comes after the webhook timeout is a failed attempt (Timeout, no status)", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver((_, res) => {
          setTimeout(() => res.writableEnded || res.destroyed ? undefined : res.end("too late"), 3 * timeoutMs).unref()
        })
        const result = yield* firstAttempt(() => `${receiver.url}/slow`)
        expectFailedFirstAttempt(result)
        expect(result.attempt).toMatchObject({ http_status: null, response_body: null })
        expect(result.attempt.error).toMatch(/^Timeout: /)
        expect(result.attempt.duration_ms).toBeGreaterThanOrEqual(timeoutMs - 50)
        expect(result.attempt.duration_ms).toBeLessThan(3 * timeoutMs)
        expect(result.delivery.http_status).toBeNull()
        expect(result.detail.attempts[0]).toMatchObject({ httpStatus: null, error: result.attempt.error })
      }))

    it.scoped("a receiver that resets the connection is a failed attempt (Connection error, no status)", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver((_, res) => res.socket?.destroy())
        const result = yield* firstAttempt(() => `${receiver.url}/reset`)
        expectFailedFirstAttempt(result)
        expect(result.attempt).toMatchObject({ http_status: null, response_body: null })
        expect(result.attempt.error).toMatch(/^Connection: ./)
        expect(result.detail.attempts[0]).toMatchObject({ httpStatus: null, error: result.attempt.error })
      }))

    it.scoped("a refused connection is a failed attempt (Connection error)", () =>
      Effect.gen(function*() {
        // Port 1: privileged, never handed out by listen(0), so nothing listens there (a port just freed
        // could be taken by another test's server before the attempt).
        const result = yield* firstAttempt(() => "http://127.0.0.1:1/nobody")
        expectFailedFirstAttempt(result)
        expect(result.attempt.http_status).toBeNull()
        expect(result.attempt.error).toMatch(/^Connection: .*ECONNREFUSED/)
      }))

    it.scoped("a redirect is not followed: a failed attempt with the 3xx status, and the other URL gets nothing", () =>
      Effect.gen(function*() {
        const elsewhere = yield* startReceiver()
        const receiver = yield* startReceiver((_: ReceivedRequest, res: ServerResponse) => {
          res.statusCode = 302
          res.setHeader("location", `${elsewhere.url}/stolen`)
          res.end("moved")
        })
        const result = yield* firstAttempt(() => `${receiver.url}/moved`)
        expectFailedFirstAttempt(result)
        expect(result.attempt).toMatchObject({ http_status: 302, error: null, response_body: "moved" })
        expect(result.delivery.http_status).toBe(302)
        expect((yield* nextRequest(receiver.received)).path).toBe("/moved")
        yield* expectNoMoreRequests(elsewhere.received, 300)
      }))

    it.scoped("a 500 is a failed attempt with its status and (capped) body kept", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver((_, res) => {
          res.statusCode = 500
          res.end("boom")
        })
        const result = yield* firstAttempt(() => `${receiver.url}/boom`)
        expectFailedFirstAttempt(result)
        expect(result.attempt).toMatchObject({ http_status: 500, error: null, response_body: "boom" })
        expect(result.delivery).toMatchObject({ http_status: 500, response_body: "boom" })
        expect(result.detail.attempts[0]).toMatchObject({ httpStatus: 500, responseBody: "boom", error: null })
      }))

    it.scoped("a 204 is a success: DELIVERED, no retry scheduled", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver((_, res) => {
          res.statusCode = 204
          res.end()
        })
        const result = yield* firstAttempt(() => `${receiver.url}/ok`)
        expect(result.delivery).toMatchObject({ status: "DELIVERED", attempt_number: 1, http_status: 204, next_retry_at: null })
        expect(result.attempt).toMatchObject({ http_status: 204, error: null })
        expect(result.detail).toMatchObject({ status: "DELIVERED", nextRetryAt: null, httpStatus: 204 })
        expect(result.detail.deliveredAt).toEqual(expect.any(String))
      }))
  })
})
