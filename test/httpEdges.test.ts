/**
 * What the router alone would answer with an empty 404, through the real HTTP
 * server: unknown routes a JSON 404, a known path with the wrong method a
 * JSON 405 with Allow, odd store ids (space, `;`, NUL, too long) a 400 naming
 * storeId; and the status endpoints naming what is there.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, adminToken, TestApp } from "./support/app.ts"
import { rawFetch } from "./credentials/helpers.ts"

const prefix = `edges-${randomUUID().slice(0, 8)}`
const auth = { authorization: `Bearer ${adminToken}` }

describe("HTTP edges", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("an unknown route is a JSON 404 naming it", () =>
      Effect.gen(function*() {
        for (const path of ["/nope", "/stores/s1/nothing-here", "/stores", "/%00"]) {
          const response = yield* rawFetch(path, { headers: auth })
          expect(response.status, path).toBe(404)
          expect(response.body, path).toEqual({ error: "not_found", message: expect.stringContaining("no route GET") })
        }
      }))

    it.effect("a known path with a method it does not take is a JSON 405 with Allow", () =>
      Effect.gen(function*() {
        const wrong = yield* rawFetch("/stores/s1/webhooks", { method: "DELETE", headers: auth })
        expect(wrong.status).toBe(405)
        expect(wrong.headers.get("allow")).toBe("GET, POST")
        expect(wrong.body).toEqual({ error: "method_not_allowed", message: "DELETE is not allowed here; allowed: GET, POST" })
        const health = yield* rawFetch("/healthz", { method: "POST" })
        expect(health.status).toBe(405)
        expect(health.headers.get("allow")).toBe("GET")
      }))

    it.effect("an invalid store id is a 400 naming storeId, whatever the router makes of it", () =>
      Effect.gen(function*() {
        for (const storeId of ["a%20b", "a;b", "a%3Bb", "a%00b", "x".repeat(129), "y".repeat(300), "%F0%9F%92%A9"]) {
          const response = yield* rawFetch(`/stores/${storeId}/webhooks`, { headers: auth })
          expect(response.status, storeId).toBe(400)
          expect(response.body.error, storeId).toBe("invalid_request")
          expect(response.body.fields, storeId).toEqual(["storeId"])
          expect(response.body.message.length, storeId).toBeLessThan(300)
        }
        // A good one still answers.
        expect((yield* adminFetch("/stores/good-store/webhooks")).status).toBe(200)
      }))

    it.effect("/readyz shows Kafka in live mode; /ops/status adds the secret store and the backlog", () =>
      Effect.gen(function*() {
        const ready = yield* rawFetch("/readyz")
        expect(ready.body).toEqual({ status: "ready", checks: { database: "ok", kafka: "ok" } })
        expect((yield* rawFetch("/ops/status")).status).toBe(401)
        const status = yield* adminFetch("/ops/status")
        expect(status.status).toBe(200)
        expect(status.body).toMatchObject({
          mode: "live",
          checks: { database: "ok", kafka: "ok", secretStore: { kind: "vault", state: "ok" } },
          backlog: {
            webhooks: { pending: expect.any(Number), failed: expect.any(Number), deadLetteredLast24h: expect.any(Number) },
            connectors: { pending: expect.any(Number) }
          }
        })
      }))
  })
})
