/**
 * The lane's synchronous signatures (node:crypto HMAC through the port) are
 * the ones receivers check: X-SS3-Signature equal to WebCrypto's over the same
 * bytes, webhook-signature accepted by the `standardwebhooks` package, for
 * new `whsec_` secrets, older base64url ones and any body.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Webhook } from "standardwebhooks"
import { cryptoPrimitivesNode } from "../../src/layers/CryptoPrimitivesNode.ts"
import { importSigningKey, newSecretString, sign, verify } from "../../src/domain/webhooks/signature.ts"
import { signingKeysOf, ss3Signature, standardSignature } from "../../src/domain/webhooks/signing.ts"

const hmac = cryptoPrimitivesNode.hmacSha256
const bodies = ["{}", JSON.stringify({ eventId: "e-1", data: { name: "Zoë", emoji: "🛒", pad: "x".repeat(5000) } }), ""]

describe("webhook signing through CryptoPrimitives", () => {
  it.effect("X-SS3-Signature: the same as WebCrypto's, and verify accepts it", () =>
    Effect.gen(function*() {
      for (const secret of [newSecretString(), "whsec_" + "a-b_c".repeat(8), "a plain secret"]) {
        for (const text of bodies) {
          const body = new TextEncoder().encode(text)
          const header = ss3Signature(hmac, signingKeysOf(secret), body)
          expect(header).toBe(yield* sign(yield* importSigningKey(secret), body))
          expect(yield* verify(secret, body, header)).toBe(true)
        }
      }
    }))

  it("webhook-signature: accepted by the standardwebhooks package", () => {
    const secret = newSecretString()
    const timestamp = Math.floor(Date.now() / 1000)
    for (const text of bodies.filter((b) => b.length > 0)) {
      const body = new TextEncoder().encode(text)
      const headers = {
        "webhook-id": "msg_0b7c6f3e",
        "webhook-timestamp": String(timestamp),
        "webhook-signature": standardSignature(hmac, signingKeysOf(secret), "msg_0b7c6f3e", timestamp, body)
      }
      expect(new Webhook(secret).verify(text, headers)).toEqual(JSON.parse(text))
      expect(() => new Webhook(newSecretString()).verify(text, headers)).toThrow()
    }
  })
})
