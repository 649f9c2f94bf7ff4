import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Redacted } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { HttpOutLive, makeHttpOutLive, type HttpOutLiveOptions } from "../src/layers/HttpOutLive.ts"
import { HttpOutRecorder, HttpOutTest, respond } from "../src/layers/HttpOutTest.ts"
import { AppConfig, defaultEventTopics } from "../src/services/AppConfig.ts"
import { HttpOut, HttpOutError } from "../src/services/HttpOut.ts"

interface Received {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

interface TestServer {
  readonly port: number
  readonly url: string
  /** Requests whose body has been read completely. */
  readonly received: Array<Received>
  readonly connections: () => number
  /** Resolves when a socket the server accepted is closed. */
  readonly socketClosed: Promise<void>
}

/** A real server on 127.0.0.1:0; `handle` runs once the request body has been read. */
const serve = (handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly info: TestServer }>((resume) => {
      const received: Array<Received> = []
      let connections = 0
      let markClosed: () => void = () => undefined
      const socketClosed = new Promise<void>((resolve) => (markClosed = resolve))
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const body = Buffer.concat(chunks)
          received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
          handle(req, res, body)
        })
      })
      server.on("connection", (socket) => {
        connections++
        socket.on("close", () => markClosed())
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({
          server,
          info: { port, url: `http://127.0.0.1:${port}`, received, connections: () => connections, socketClosed }
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ info }) => info))

const defaults: HttpOutLiveOptions = {
  defaultTimeoutMs: 2_000,
  defaultMaxBodyBytes: 16 * 1024,
  blockPrivateAddresses: false
}

const client = (overrides: Partial<HttpOutLiveOptions> = {}) => makeHttpOutLive({ ...defaults, ...overrides })

const failureOf = <A>(exit: Exit.Exit<A, HttpOutError>): HttpOutError => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (!(error instanceof HttpOutError)) throw new Error(`expected an HttpOutError, got ${String(exit.cause)}`)
  return error
}

/** Within `ms`, or the test fails (instead of hanging until vitest's timeout). */
const within = (promise: Promise<void>, ms: number) =>
  Effect.promise(() =>
    Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])
  )

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
      const port = yield* Effect.scoped(Effect.map(serve(() => undefined), (s) => s.port))
      const out = yield* client()

      const error = failureOf(
        yield* Effect.exit(out.request({ method: "POST", url: `http://127.0.0.1:${port}/`, body: "{}" }))
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

const waitFor = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 2 s")
    await new Promise((r) => setTimeout(r, 5))
  }
}
