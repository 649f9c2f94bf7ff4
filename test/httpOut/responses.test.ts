/** HttpOutLive against a real server: what a response brings back (status, headers, body, its cap), and connection reuse; the HttpOutTest double. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpOutRecorder, HttpOutTest, respond } from "../../src/layers/HttpOutTest.ts"
import { HttpOut, HttpOutError } from "../../src/services/HttpOut.ts"
import { client, serve, within } from "./httpOutHelpers.ts"

describe("HttpOutLive", () => {
  it.scopedLive("returns a 2xx with its body; the server gets the headers and the exact body bytes", () =>
    Effect.gen(function*() {
      // Answers 60 ms after the request arrived: the measured duration must include that wait.
      const server = yield* serve((_req, res) => {
        setTimeout(() => {
          res.writeHead(202, { "content-type": "text/plain; charset=utf-8", "x-answer": "42" })
          res.end("accepté ✓")
        }, 60)
      })
      const out = yield* client({ userAgent: "ss3-test" })
      const body = JSON.stringify({ eventId: "e-1", data: { name: "Zoë", emoji: "🛒" } })

      const response = yield* out.request({
        method: "POST",
        url: `${server.url}/hook?x=1`,
        headers: { "Content-Type": "application/json", "X-SS3-Event": "order.placed", "X-SS3-Delivery": "d-1" },
        body
      })

      expect(response.status).toBe(202)
      expect(response.body).toBe("accepté ✓")
      expect(response.truncated).toBe(false)
      expect(response.headers["x-answer"]).toBe("42")
      expect(response.durationMs).toBeGreaterThanOrEqual(50)
      const seen = server.received[0]!
      expect(seen.method).toBe("POST")
      expect(seen.url).toBe("/hook?x=1")
      expect(seen.headers["content-type"]).toBe("application/json")
      expect(seen.headers["x-ss3-event"]).toBe("order.placed")
      expect(seen.headers["x-ss3-delivery"]).toBe("d-1")
      expect(seen.headers["user-agent"]).toBe("ss3-test")
      expect(seen.body.equals(Buffer.from(body, "utf8"))).toBe(true)
    }))

  it.scopedLive("sends a binary body unchanged", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end())
      const out = yield* client()
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)

      const response = yield* out.request({ method: "PUT", url: server.url, body: bytes })

      expect(response.status).toBe(200)
      expect(server.received[0]!.body.equals(Buffer.from(bytes))).toBe(true)
      expect(server.received[0]!.headers["user-agent"]).toBe("ShopSTAR3-integration-service")
    }))

  it.scopedLive("returns a 500 as a response, not an error", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.statusCode = 500
        res.end("internal error")
      })
      const out = yield* client()

      const response = yield* out.request({ method: "POST", url: server.url, body: "{}" })

      expect(response.status).toBe(500)
      expect(response.body).toBe("internal error")
    }))

  it.scopedLive("does not follow a 302", () =>
    Effect.gen(function*() {
      const server = yield* serve((req, res) => {
        if (req.url === "/start") {
          res.writeHead(302, { location: "/elsewhere" })
          res.end()
        } else {
          res.end("followed")
        }
      })
      const out = yield* client()

      const response = yield* out.request({ method: "POST", url: `${server.url}/start`, body: "{}" })

      expect(response.status).toBe(302)
      expect(response.headers["location"]).toBe("/elsewhere")
      expect(server.received.map((r) => r.url)).toEqual(["/start"])
    }))

  it.scopedLive("cuts a body larger than the cap and stops reading it", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" })
        res.write("a".repeat(1000))
        // An endless body: only destroying the stream ends this exchange.
        const timer = setInterval(() => res.write("b".repeat(1000)), 5)
        res.on("close", () => clearInterval(timer))
      })
      const out = yield* client({ defaultMaxBodyBytes: 1500 })

      const response = yield* out.request({ method: "GET", url: server.url })

      expect(response.truncated).toBe(true)
      expect(response.body).toBe("a".repeat(1000) + "b".repeat(500))
      expect(yield* within(server.socketClosed, 1_000)).toBe(true)
    }))

  it.scopedLive("does not cut a multi-byte character in half", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("aé".repeat(100)))
      const out = yield* client()

      // "aé" is three bytes; a cap of 5 lands inside the second "é".
      const response = yield* out.request({ method: "GET", url: server.url, maxBodyBytes: 5 })

      expect(response.truncated).toBe(true)
      expect(response.body).toBe("aéa")
    }))

  it.scopedLive("a body exactly at the cap is not truncated", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("x".repeat(64)))
      const out = yield* client({ defaultMaxBodyBytes: 64 })

      const response = yield* out.request({ method: "GET", url: server.url })

      expect(response.truncated).toBe(false)
      expect(response.body).toHaveLength(64)
    }))

  it.scopedLive("reuses the connection between requests (keep-alive)", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("ok"))
      const out = yield* client()

      yield* out.request({ method: "POST", url: server.url, body: "1" })
      // undici frees the socket a tick after the response ends; a request sent
      // in that tick would get a second pooled connection.
      yield* Effect.sleep("50 millis")
      yield* out.request({ method: "POST", url: server.url, body: "2" })

      expect(server.received).toHaveLength(2)
      expect(server.connections()).toBe(1)
    }))
})

describe("HttpOutTest", () => {
  const layer = HttpOutTest((request) =>
    request.url.endsWith("/down")
      ? Effect.succeed(new HttpOutError({ reason: "Connection", detail: "scripted", durationMs: 0 }))
      : Effect.succeed(respond(204))
  )

  it.effect("answers with the handler and records every request", () =>
    Effect.gen(function*() {
      const out = yield* HttpOut
      const recorder = yield* HttpOutRecorder

      const ok = yield* out.request({ method: "POST", url: "https://receiver.example/ok", body: "a" })
      const down = yield* Effect.flip(out.request({ method: "POST", url: "https://receiver.example/down" }))

      expect(ok.status).toBe(204)
      expect(down.reason).toBe("Connection")
      expect((yield* recorder.requests).map((r) => r.url)).toEqual([
        "https://receiver.example/ok",
        "https://receiver.example/down"
      ])
      yield* recorder.clear
      expect(yield* recorder.requests).toEqual([])
    }).pipe(Effect.provide(layer)))

  it.effect("each layer build has its own recorder", () =>
    Effect.gen(function*() {
      const recorder = yield* HttpOutRecorder
      expect(yield* recorder.requests).toEqual([])
    }).pipe(Effect.provide(Layer.fresh(layer))))
})
