/**
 * Signing secret rotation: once `POST …/webhooks/{id}/secret/rotate` answered,
 * every delivery (new ones, and retries of older ones) is signed with the new
 * secret, and the old one no longer verifies. Real PostgreSQL and Kafka.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { verify } from "../../src/domain/webhooks/signature.ts"
import { Vault } from "../../src/services/Vault.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import {
  attemptRecorded,
  envelope,
  makeDue,
  nextRequest,
  publishEvents,
  storeDeliveries,
  subscribe,
  uniqueStore
} from "./deliveryHelpers.ts"

const prefix = `rotation-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

const signedWith = (secret: string, request: ReceivedRequest) =>
  verify(secret, request.body, request.headers["x-ss3-signature"] as string | undefined)

describe("webhook signing secret rotation (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("after a rotation the next delivery (and the next retry of an older one) is signed with the new secret only", () =>
      Effect.gen(function*() {
        // Fails what is marked to fail, takes the rest.
        const failing = new Set<string>()
        const receiver = yield* startReceiver((request: ReceivedRequest, res: ServerResponse) => {
          res.statusCode = failing.has(JSON.parse(request.text).eventId) ? 500 : 200
          res.end()
        })
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const rotate = adminFetch(`/stores/${storeId}/webhooks/${subscription.id}/secret/rotate`, { method: "POST" }).pipe(
          Effect.map((r) => {
            expect(r.status).toBe(200)
            return r.body.signingSecret as string
          })
        )

        // Before: signed with the first secret. One more event fails and waits for its retry.
        const before = envelope(storeId)
        const older = envelope(storeId)
        failing.add(older.eventId)
        yield* publishEvents(topic, [before, older])
        const first = [yield* nextRequest(receiver.received, "20 seconds"), yield* nextRequest(receiver.received)]
        for (const request of first) expect(yield* signedWith(subscription.secret, request)).toBe(true)
        const olderId = first.find((r) => JSON.parse(r.text).eventId === older.eventId)!.headers["x-ss3-delivery"] as string
        yield* attemptRecorded(olderId, 1)

        const secret2 = yield* rotate
        expect(secret2).not.toBe(subscription.secret)

        // A new event: the new secret verifies it, the old one does not.
        const after = envelope(storeId)
        yield* publishEvents(topic, [after])
        const request = yield* nextRequest(receiver.received)
        expect(JSON.parse(request.text).eventId).toBe(after.eventId)
        expect(yield* signedWith(secret2, request)).toBe(true)
        expect(yield* signedWith(subscription.secret, request)).toBe(false)

        // The retry of the delivery made before the rotation: the new secret too (same body, same delivery id).
        failing.delete(older.eventId)
        yield* makeDue(olderId)
        const retry = yield* nextRequest(receiver.received)
        expect(retry.headers["x-ss3-delivery"]).toBe(olderId)
        expect(retry.text).toBe(first.find((r) => r.headers["x-ss3-delivery"] === olderId)!.text)
        expect(yield* signedWith(secret2, retry)).toBe(true)
        expect(yield* signedWith(subscription.secret, retry)).toBe(false)
        expect((yield* attemptRecorded(olderId, 2))[0].status).toBe("DELIVERED")

        // Rotated again: the third secret alone.
        const secret3 = yield* rotate
        const last = envelope(storeId)
        yield* publishEvents(topic, [last])
        const third = yield* nextRequest(receiver.received)
        expect(yield* signedWith(secret3, third)).toBe(true)
        expect(yield* signedWith(secret2, third)).toBe(false)
        expect(yield* signedWith(subscription.secret, third)).toBe(false)
      }))

    it.scoped("a signing secret that could not be read once (Vault trouble) is read again for the next attempt", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const path = `integration-service/webhook/${subscription.id}`
        // The secret is briefly unreadable during the first attempt.
        const stored = Option.getOrThrow(yield* vault.read(path))
        yield* vault.delete(path)
        yield* publishEvents(topic, [envelope(storeId)])
        const [row] = yield* eventually(storeDeliveries(storeId), (rows) => rows.length === 1, "20 seconds")
        const deliveryId = row!.delivery_id
        const [first, history] = yield* attemptRecorded(deliveryId, 1)
        expect(first.status).toBe("FAILED")
        expect(history[0]!.error).toMatch(/^SigningSecretMissing: /)

        // Back: the retry is signed with it and delivered (the failed lookup was not kept).
        yield* vault.write(path, stored)
        yield* makeDue(deliveryId)
        const request = yield* nextRequest(receiver.received)
        expect(yield* signedWith(subscription.secret, request)).toBe(true)
        expect((yield* attemptRecorded(deliveryId, 2))[0].status).toBe("DELIVERED")
      }))
  })
})
