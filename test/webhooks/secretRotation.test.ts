/**
 * Signing secret rotation: once `POST …/webhooks/{id}/secret/rotate` answered,
 * every delivery (new ones, and retries of older ones) carries X-SS3-Signature
 * of the new secret alone; webhook-signature carries the old one's too until
 * the overlap ends. Real PostgreSQL and Kafka.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Webhook } from "standardwebhooks"
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
  readSecretFromVaultNext,
  storeDeliveries,
  subscribe,
  uniqueStore
} from "./deliveryHelpers.ts"

const prefix = `rotation-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

const signedWith = (secret: string, request: ReceivedRequest) =>
  verify(secret, request.body, request.headers["x-ss3-signature"] as string | undefined)

/** A receiver on the standardwebhooks package holding `secret` accepts the request. */
const standardAccepts = (secret: string, request: ReceivedRequest) => {
  try {
    new Webhook(secret).verify(request.text, request.headers as Record<string, string>)
    return true
  } catch {
    return false
  }
}

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

    it.scoped("a rotation with overlap signs webhook-signature with both secrets (new first) until the overlap ends; 0 ends the old one at once", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const rotate = (body?: unknown) =>
          adminFetch(`/stores/${storeId}/webhooks/${subscription.id}/secret/rotate`, { method: "POST", body }).pipe(
            Effect.map((r) => {
              expect(r.status, JSON.stringify(r.body)).toBe(200)
              return r.body.signingSecret as string
            })
          )
        const deliverOne = Effect.gen(function*() {
          yield* publishEvents(topic, [envelope(storeId)])
          return yield* nextRequest(receiver.received, "20 seconds")
        })

        // The default overlap (a day): both signatures, the new one first; X-SS3-Signature is the new secret's.
        const secret2 = yield* rotate()
        const during = yield* deliverOne
        const entries = (during.headers["webhook-signature"] as string).split(" ")
        expect(entries).toHaveLength(2)
        expect(entries.every((e) => /^v1,[A-Za-z0-9+/]+={0,2}$/.test(e))).toBe(true)
        expect(standardAccepts(secret2, during)).toBe(true)
        expect(standardAccepts(subscription.secret, during)).toBe(true)
        expect(standardAccepts(secret2, { ...during, headers: { ...during.headers, "webhook-signature": entries[0]! } })).toBe(true)
        expect(yield* signedWith(secret2, during)).toBe(true)
        expect(yield* signedWith(subscription.secret, during)).toBe(false)
        const [row] = yield* sql<{ until: Date }>`SELECT previous_secret_until AS until FROM webhook_subscriptions
          WHERE subscription_id = ${subscription.id}::uuid`
        expect(Math.abs(row!.until.getTime() - Date.now() - 86_400_000)).toBeLessThan(60_000)

        // The overlap runs out ("time moves" in SQL): the new secret alone.
        yield* sql`UPDATE webhook_subscriptions SET previous_secret_until = now() - interval '1 second'
          WHERE subscription_id = ${subscription.id}::uuid`
        const after = yield* deliverOne
        expect((after.headers["webhook-signature"] as string).split(" ")).toHaveLength(1)
        expect(standardAccepts(secret2, after)).toBe(true)
        expect(standardAccepts(subscription.secret, after)).toBe(false)

        // Rotated again with an overlap: the second and third sign, the first no longer does.
        const secret3 = yield* rotate({ overlapSeconds: 600 })
        const next = yield* deliverOne
        expect(standardAccepts(secret3, next)).toBe(true)
        expect(standardAccepts(secret2, next)).toBe(true)
        expect(standardAccepts(subscription.secret, next)).toBe(false)

        // overlapSeconds 0: the old secret ends at once.
        const secret4 = yield* rotate({ overlapSeconds: 0 })
        const alone = yield* deliverOne
        expect((alone.headers["webhook-signature"] as string).split(" ")).toHaveLength(1)
        expect(standardAccepts(secret4, alone)).toBe(true)
        expect(standardAccepts(secret3, alone)).toBe(false)
        expect(yield* signedWith(secret4, alone)).toBe(true)
      }))

    it.scoped("a rotate body that does not decode is a 400 naming overlapSeconds, and rotates nothing", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const path = `/stores/${storeId}/webhooks/${subscription.id}/secret/rotate`
        for (const overlapSeconds of [-1, 1.5, "60", 31 * 86_400, 1e300, null, "\u0000"]) {
          const r = yield* adminFetch(path, { method: "POST", body: { overlapSeconds } })
          expect(r.status, JSON.stringify(overlapSeconds)).toBe(400)
          expect(JSON.stringify(r.body)).toContain("overlapSeconds")
        }
        const unknown = yield* adminFetch(path, { method: "POST", body: { overlapSeconds: 5, overlap: 5 } })
        expect(unknown.status).toBe(400)
        expect(JSON.stringify(unknown.body)).toContain("overlap")
        const notObject = yield* adminFetch(path, { method: "POST", body: [1] })
        expect(notObject.status).toBe(400)
        // Nothing was rotated: the first secret still signs alone.
        yield* publishEvents(topic, [envelope(storeId)])
        const request = yield* nextRequest(receiver.received, "20 seconds")
        expect(yield* signedWith(subscription.secret, request)).toBe(true)
        expect((request.headers["webhook-signature"] as string).split(" ")).toHaveLength(1)
      }))

    it.scoped("a signing secret that could not be read once (Vault trouble) is read again for the next attempt", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        const path = `integration-service/webhook/${subscription.id}`
        // The secret is briefly unreadable in Vault during the first attempt.
        yield* readSecretFromVaultNext(subscription.id)
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
