/**
 * Standard Webhooks (standardwebhooks.com v1) next to the X-SS3-* headers: a
 * receiver verifying with the `standardwebhooks` npm package accepts every
 * delivery, retries included, and subscriptions whose secret predates it keep
 * working. Real PostgreSQL and Kafka.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Encoding, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { Webhook } from "standardwebhooks"
import { newSecretString, standardKeyBytes, verify } from "../../src/domain/webhooks/signature.ts"
import { Vault } from "../../src/services/Vault.ts"
import { TestApp } from "../support/app.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import { attemptRecorded, envelope, makeDue, nextRequest, publishEvents, subscribe, uniqueStore } from "./deliveryHelpers.ts"

const prefix = `stdwh-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

/** What a receiver does with the package: throws unless a signature verifies within the 5-minute tolerance. */
const verifiesStandard = (secret: string, request: ReceivedRequest) => {
  try {
    new Webhook(secret).verify(request.text, request.headers as Record<string, string>)
    return true
  } catch {
    return false
  }
}

const standardHeaders = (request: ReceivedRequest) => ({
  id: request.headers["webhook-id"],
  timestamp: Number(request.headers["webhook-timestamp"]),
  signature: request.headers["webhook-signature"] as string
})

describe("signing secrets in the Standard Webhooks form", () => {
  it("a new secret is whsec_ + standard base64 of 32 random bytes, and its key is those bytes", () => {
    const secret = newSecretString()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
    expect(standardKeyBytes(secret)).toHaveLength(32)
    expect(newSecretString()).not.toBe(secret)
  })

  it("an older base64url secret decodes as base64url; a string without the prefix signs with its own bytes", () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => 250 - i)
    const old = `whsec_${Encoding.encodeBase64Url(bytes)}`
    expect(old).toMatch(/[-_]/)
    expect(standardKeyBytes(old)).toEqual(bytes)
    expect(standardKeyBytes("plain")).toEqual(new TextEncoder().encode("plain"))
  })
})

describe("Standard Webhooks headers on every attempt (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("a receiver using the standardwebhooks package accepts the first attempt and a retry; X-SS3-Signature verifies too", () =>
      Effect.gen(function*() {
        let answer = 500
        const receiver = yield* startReceiver((_: ReceivedRequest, res: ServerResponse) => {
          res.statusCode = answer
          res.end()
        })
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        expect(subscription.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
        expect(standardKeyBytes(subscription.secret).length).toBeGreaterThanOrEqual(24)

        yield* publishEvents(topic, [envelope(storeId)])
        const first = yield* nextRequest(receiver.received, "20 seconds")
        const deliveryId = first.headers["x-ss3-delivery"] as string
        const headers = standardHeaders(first)
        expect(headers.id).toBe(deliveryId)
        expect(Math.abs(headers.timestamp - Date.now() / 1000)).toBeLessThan(30)
        expect(headers.signature).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/)
        expect(verifiesStandard(subscription.secret, first)).toBe(true)
        expect(yield* verify(subscription.secret, first.body, first.headers["x-ss3-signature"] as string)).toBe(true)

        // A tampered body, another id or another secret: rejected.
        expect(verifiesStandard(subscription.secret, { ...first, text: first.text.replace("}", ",\"x\":1}") })).toBe(false)
        expect(verifiesStandard(subscription.secret, { ...first, headers: { ...first.headers, "webhook-id": randomUUID() } }))
          .toBe(false)
        expect(verifiesStandard(newSecretString(), first)).toBe(false)
        // Replayed later than the tolerance (the timestamp is signed, so it cannot be moved): rejected.
        const stale = { ...first.headers, "webhook-timestamp": String(headers.timestamp - 301) }
        expect(verifiesStandard(subscription.secret, { ...first, headers: stale })).toBe(false)

        // The retry: the same webhook-id, this attempt's timestamp, a signature that verifies.
        yield* attemptRecorded(deliveryId, 1)
        answer = 200
        yield* makeDue(deliveryId)
        const retry = yield* nextRequest(receiver.received)
        expect(retry.headers["webhook-id"]).toBe(deliveryId)
        expect(Number(retry.headers["webhook-timestamp"])).toBeGreaterThanOrEqual(headers.timestamp)
        expect(verifiesStandard(subscription.secret, retry)).toBe(true)
        expect((yield* attemptRecorded(deliveryId, 2))[0].status).toBe("DELIVERED")
      }))

    it.scoped("a subscription whose secret predates Standard Webhooks (base64url) keeps verifying on both header sets", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const sql = yield* SqlClient
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        const subscription = yield* subscribe(storeId, `${receiver.url}/hook`)
        // The form secrets had before: whsec_ + base64url (with the url-safe characters in it).
        const old = `whsec_${Encoding.encodeBase64Url(Uint8Array.from({ length: 32 }, (_, i) => 255 - i * 3))}`
        expect(old).toMatch(/[-_]/)
        yield* vault.write(`integration-service/webhook/${subscription.id}`, { secret: Redacted.make(old) })
        yield* sql`UPDATE webhook_subscriptions SET secret_version = secret_version + 1 WHERE subscription_id = ${subscription.id}::uuid`

        yield* publishEvents(topic, [envelope(storeId)])
        const request = yield* nextRequest(receiver.received, "20 seconds")
        expect(yield* verify(old, request.body, request.headers["x-ss3-signature"] as string)).toBe(true)
        // The package takes standard base64: the receiver converts the old secret once.
        const asStandard = `whsec_${old.slice(6).replace(/-/g, "+").replace(/_/g, "/")}=`
        expect(verifiesStandard(asStandard, request)).toBe(true)
      }))
  })
})
