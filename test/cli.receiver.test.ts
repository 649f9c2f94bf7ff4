/**
 * `integration-service receiver`: a local endpoint that verifies signed webhook POSTs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Queue, Redacted } from "effect"
import { formatDeliveryLine, makeReceiver, type ReceivedDelivery } from "../src/cli/commands/receiver.ts"
import { importSigningKey, sign } from "../src/domain/webhooks/signature.ts"

const STORE = "store-1"
const DELIVERY_ID = "0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11"
const EVENT_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

describe("receiver", () => {
  const post = (url: string, body: string, headers: Record<string, string>) =>
    Effect.promise(() => fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } }))

  it.scoped("verifies a correctly signed POST, answers --status, and rejects a bad signature with 401", () =>
    Effect.gen(function*() {
      const secret = "whsec_test_secret"
      const seen = yield* Queue.unbounded<ReceivedDelivery>()
      const receiver = yield* makeReceiver({
        port: 0,
        host: "127.0.0.1",
        secret: Redacted.make(secret),
        status: 202,
        onDelivery: (d) => Queue.offer(seen, d)
      })
      expect(receiver.port).toBeGreaterThan(0)
      expect(receiver.url).toBe(`http://127.0.0.1:${receiver.port}/`)

      const body = JSON.stringify({ eventId: EVENT_ID, eventType: "order.placed", storeId: STORE, data: { orderId: "o-1" } })
      const signature = yield* sign(yield* importSigningKey(secret), new TextEncoder().encode(body))

      const good = yield* post(receiver.url, body, {
        "X-SS3-Signature": signature,
        "X-SS3-Delivery": DELIVERY_ID,
        "X-SS3-Event": "order.placed"
      })
      expect(good.status).toBe(202)
      const accepted = yield* Queue.take(seen)
      expect(accepted).toMatchObject({
        deliveryId: DELIVERY_ID,
        eventType: "order.placed",
        verified: true,
        bytes: Buffer.byteLength(body),
        status: 202
      })
      expect(formatDeliveryLine(accepted)).toMatch(
        new RegExp(`${DELIVERY_ID}  order\\.placed  verified  ${Buffer.byteLength(body)} bytes`)
      )

      const forged = yield* post(receiver.url, body.replace("o-1", "o-2"), {
        "X-SS3-Signature": signature,
        "X-SS3-Delivery": DELIVERY_ID,
        "X-SS3-Event": "order.placed"
      })
      expect(forged.status).toBe(401)
      const rejected = yield* Queue.take(seen)
      expect(rejected).toMatchObject({ verified: false, status: 401 })
      expect(formatDeliveryLine(rejected)).toContain("SIGNATURE MISMATCH")

      const unsigned = yield* post(receiver.url, body, { "X-SS3-Delivery": DELIVERY_ID })
      expect(unsigned.status).toBe(401)
      expect((yield* Queue.take(seen)).verified).toBe(false)

      const get = yield* Effect.promise(() => fetch(receiver.url))
      expect(get.status).toBe(405)
      expect(yield* Queue.size(seen)).toBe(0)
    }))

  it.effect("stops listening when its scope closes", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(
        makeReceiver({ port: 0, host: "127.0.0.1", secret: "s", status: 200, onDelivery: () => Effect.void }).pipe(
          Effect.map((r) => r.url)
        )
      )
      const refused = yield* Effect.exit(Effect.tryPromise(() => fetch(url, { method: "POST", body: "{}" })))
      expect(Exit.isFailure(refused)).toBe(true)
    }))

  it.scoped("reports a port in use as one line", () =>
    Effect.gen(function*() {
      const first = yield* makeReceiver({ port: 0, host: "127.0.0.1", secret: "s", status: 200, onDelivery: () => Effect.void })
      const error = yield* Effect.flip(
        makeReceiver({ port: first.port, host: "127.0.0.1", secret: "s", status: 200, onDelivery: () => Effect.void })
      )
      expect(error.message).toBe(`cannot listen on 127.0.0.1:${first.port}: the port is in use`)
    }))
})
