/** HttpOutLive's failures: timeouts, interruption, connection errors, refused URLs and private addresses (and the layer's switch for them). */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Redacted } from "effect"
import { HttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { AppConfig, defaultEventTopics } from "../../src/services/AppConfig.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"
import { client, failureOf, serve, waitFor, within } from "./httpOutHelpers.ts"

describe("HttpOutLive", () => {
  it.scopedLive("times out a server that never answers, and closes the socket", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => undefined)
      const out = yield* client()

      const exit = yield* Effect.exit(out.request({ method: "POST", url: server.url, body: "{}", timeoutMs: 300 }))

      const error = failureOf(exit)
      expect(error.reason).toBe("Timeout")
      expect(error.durationMs).toBeGreaterThanOrEqual(290)
      expect(error.durationMs).toBeLessThan(1_300)
      expect(yield* within(server.socketClosed, 1_000)).toBe(true)
    }))

  it.scopedLive("the timeout covers reading the body", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.writeHead(200, { "content-length": "100" })
        res.write("partial") // and never the rest
      })
      const out = yield* client({ defaultTimeoutMs: 300 })

      const error = failureOf(yield* Effect.exit(out.request({ method: "GET", url: server.url })))

      expect(error.reason).toBe("Timeout")
      expect(error.durationMs).toBeLessThan(1_300)
      expect(yield* within(server.socketClosed, 1_000)).toBe(true)
    }))

  it.scopedLive("interrupting the request aborts it", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => undefined)
      const out = yield* client({ defaultTimeoutMs: 30_000 })

      const fiber = yield* Effect.fork(out.request({ method: "POST", url: server.url, body: "{}" }))
      yield* Effect.promise(() => waitFor(() => server.received.length === 1))
      yield* Fiber.interrupt(fiber)

      expect(yield* within(server.socketClosed, 1_000)).toBe(true)
    }))

  it.scopedLive("a reset connection is a Connection error", () =>
    Effect.gen(function*() {
      const server = yield* serve((req) => req.socket.destroy())
      const out = yield* client()

      const error = failureOf(yield* Effect.exit(out.request({ method: "POST", url: server.url, body: "{}" })))

      expect(error.reason).toBe("Connection")
    }))

  it.scopedLive("a refused connection is a Connection error", () =>
    Effect.gen(function*() {
      const out = yield* client()

      // Port 1: privileged, never handed out by listen(0), so nothing listens there.
      const error = failureOf(
        yield* Effect.exit(out.request({ method: "POST", url: "http://127.0.0.1:1/", body: "{}" }))
      )

      expect(error.reason).toBe("Connection")
      expect(error.detail).toContain("ECONNREFUSED")
    }))

  it.scopedLive("a TLS failure is a Connection error", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("plain http"))
      const out = yield* client()

      const error = failureOf(yield* Effect.exit(out.request({ method: "GET", url: `https://127.0.0.1:${server.port}/` })))

      expect(error.reason).toBe("Connection")
    }))

  it.scopedLive("rejects what is not an http(s) URL", () =>
    Effect.gen(function*() {
      const out = yield* client()
      for (const url of ["not a url", "/relative", "ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)"]) {
        const error = failureOf(yield* Effect.exit(out.request({ method: "GET", url })))
        expect(error.reason, url).toBe("InvalidUrl")
      }
    }))

  describe("blockPrivateAddresses", () => {
    it.scopedLive("refuses loopback IP literals and names resolving to loopback without connecting", () =>
      Effect.gen(function*() {
        const server = yield* serve((_req, res) => res.end("ok"))
        const out = yield* client({ blockPrivateAddresses: true })
        const urls = [
          `http://127.0.0.1:${server.port}/`,
          `http://localhost:${server.port}/`,
          `http://[::1]:${server.port}/`,
          `http://[::ffff:127.0.0.1]:${server.port}/`,
          `http://0x7f.1:${server.port}/`, // WHATWG URL turns this into 127.0.0.1
          `http://0.0.0.0:${server.port}/`,
          `http://169.254.169.254/latest/meta-data/`
        ]

        for (const url of urls) {
          const error = failureOf(yield* Effect.exit(out.request({ method: "POST", url, body: "{}" })))
          expect(error.reason, url).toBe("BlockedAddress")
        }
        expect(server.connections()).toBe(0)
      }))

    it.scopedLive("lets the same requests through when off", () =>
      Effect.gen(function*() {
        const server = yield* serve((_req, res) => res.end("ok"))
        const out = yield* client({ blockPrivateAddresses: false })

        const byIp = yield* out.request({ method: "POST", url: `http://127.0.0.1:${server.port}/`, body: "{}" })
        const byName = yield* out.request({ method: "POST", url: `http://localhost:${server.port}/`, body: "{}" })

        expect(byIp.status).toBe(200)
        expect(byName.status).toBe(200)
        expect(server.received).toHaveLength(2)
      }))
  })
})

describe("HttpOutLive layer", () => {
  const config = (allowInsecureTargets: boolean) =>
    Layer.succeed(AppConfig, {
      mode: "live",
      port: 0,
      databaseUrl: Redacted.make("postgres://unused"),
      kafka: { brokers: [], clientId: "test", groupId: "test", eventTopics: defaultEventTopics, maxMessageBytes: 1_000_000 },
      events: { maxBytes: 1024 * 1024, maxDepth: 64 },
      adminToken: Redacted.make("unused"),
      otlpEndpoint: Option.none(),
      webhook: { timeoutMs: 1_000, allowInsecureTargets },
      credentials: { bcryptCost: 4, accessTokenTtlSeconds: 3600 },
      dataDir: ".data"
    })

  for (const allowInsecureTargets of [false, true]) {
    it.scopedLive(`blocks loopback unless insecure targets are allowed (allowed: ${allowInsecureTargets})`, () =>
      Effect.gen(function*() {
        const server = yield* serve((_req, res) => res.end("ok"))
        const out = yield* HttpOut

        const exit = yield* Effect.exit(out.request({ method: "POST", url: server.url, body: "{}" }))

        if (allowInsecureTargets) expect(Exit.isSuccess(exit)).toBe(true)
        else expect(failureOf(exit).reason).toBe("BlockedAddress")
      }).pipe(Effect.provide(HttpOutLive.pipe(Layer.provide(config(allowInsecureTargets))))))
  }
})
