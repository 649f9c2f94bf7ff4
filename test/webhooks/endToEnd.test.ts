import { describe, expect, layer } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { randomUUID } from "node:crypto"
import { verify } from "../../src/domain/webhooks/signature.ts"
import { Kafka } from "../../src/services/Kafka.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"

const prefix = `e2e-${randomUUID().slice(0, 8)}`

describe("webhooks end to end (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.scoped("an event on Kafka becomes a signed POST that the receiver verifies, then webhook.delivered", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = `store-${randomUUID().slice(0, 8)}`
        const created = yield* adminFetch(`/stores/${storeId}/webhooks`, {
          method: "POST",
          body: { name: "orders", targetUrl: `${receiver.url}/hook`, events: ["order.placed"] }
        })
        expect(created.status).toBe(201)
        const secret: string = created.body.signingSecret
        expect(secret.length).toBeGreaterThanOrEqual(32)

        const kafka = yield* Kafka
        const eventId = randomUUID()
        const envelope = { eventId, eventType: "order.placed", storeId, occurredAt: new Date().toISOString(), data: { orderId: "o-1" } }
        yield* kafka.publish(`${prefix}.orders`, [{ key: storeId, value: JSON.stringify(envelope) }])

        const request = yield* Queue.take(receiver.received).pipe(Effect.timeout("30 seconds"))
        expect(request.method).toBe("POST")
        expect(request.headers["content-type"]).toBe("application/json")
        expect(request.headers["x-ss3-event"]).toBe("order.placed")
        expect(yield* verify(secret, request.body, request.headers["x-ss3-signature"] as string)).toBe(true)
        expect(JSON.parse(request.text)).toEqual(envelope)

        const deliveryId = request.headers["x-ss3-delivery"] as string
        const detail = yield* eventually(
          adminFetch(`/stores/${storeId}/deliveries/${deliveryId}`),
          (r) => r.body?.status === "DELIVERED"
        )
        expect(detail.body.attempts).toHaveLength(1)
      }))
  })
})
