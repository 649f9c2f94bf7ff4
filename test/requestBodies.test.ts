/**
 * Bodies bounded, errors exact, on every route that takes a body (webhooks,
 * credentials, connectors and their runs, the token endpoint, dev events), through the real
 * HTTP server: a 413 with the API's error body, decided before the body is
 * read (declared length, chunked, Expect: 100-continue); unknown fields a 400
 * naming them; every failing field reported; no more than ~100 characters of
 * a value quoted back; NUL, lone surrogates, invalid UTF-8 and deep nesting
 * answered, never a 500.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { connect } from "node:net"
import { adminFetch, adminToken, baseUrl, TestApp } from "./support/app.ts"
import { issue, newStoreId, rawFetch } from "./credentials/helpers.ts"

const prefix = `bodies-${randomUUID().slice(0, 8)}`
const json = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }

/** Every route with a body, a valid body for it, and what it answers to that body. */
const routes = (storeId: string, subscriptionId: string, configId: string) => [
  { method: "POST", path: `/stores/${storeId}/webhooks`, body: { name: "n", targetUrl: "https://hooks.example.com/x", events: ["order.placed"] } },
  { method: "PATCH", path: `/stores/${storeId}/webhooks/${subscriptionId}`, body: { name: "renamed" } },
  { method: "POST", path: `/stores/${storeId}/deliveries/retry`, body: { status: "FAILED" } },
  { method: "POST", path: `/stores/${storeId}/webhooks/${subscriptionId}/secret/rotate`, body: { overlapSeconds: 60 } },
  { method: "POST", path: `/stores/${storeId}/webhooks/${subscriptionId}/recover`, body: { since: "2024-01-01T00:00:00Z" } },
  { method: "POST", path: `/stores/${storeId}/credentials`, body: { name: "n", type: "API_KEY", scopes: ["orders:read"] } },
  {
    method: "POST",
    path: `/stores/${storeId}/connectors`,
    body: { connectorType: "amazon", displayName: "d", isActive: false, settings: { sellerId: "A1", baseUrl: "https://sp.example.com", tokenUrl: "https://lwa.example.com/o2/token" } }
  },
  { method: "PATCH", path: `/stores/${storeId}/connectors/${configId}`, body: { displayName: "renamed" } },
  { method: "PUT", path: `/stores/${storeId}/connectors/${configId}/credentials`, body: { apiKey: "k", apiSecret: "s" } },
  { method: "POST", path: `/stores/${storeId}/connectors/${configId}/runs/retry`, body: { status: "FAILED" } },
  { method: "POST", path: "/dev/events", body: { eventType: "order.placed", storeId } }
] as const

const setUp = Effect.gen(function*() {
  const storeId = newStoreId()
  const subscription = yield* adminFetch(`/stores/${storeId}/webhooks`, { method: "POST", body: routes(storeId, "", "")[0].body })
  expect(subscription.status).toBe(201)
  const config = yield* adminFetch(`/stores/${storeId}/connectors`, { method: "POST", body: routes(storeId, "", "")[6].body })
  expect(config.status, JSON.stringify(config.body)).toBe(201)
  return { storeId, all: routes(storeId, subscription.body.id, config.body.id) }
})

const expectTooLarge = (response: { status: number; body: any; headers: Headers }, limit: number, what: string) => {
  expect(response.status, what).toBe(413)
  expect(response.body, what).toEqual({ error: "payload_too_large", message: expect.stringContaining(`${limit} bytes`) })
}

/** Raw HTTP/1.1 over a socket: sends `head` (and `body`, not necessarily all of it), returns what came back first. */
const rawExchange = (origin: string, head: string, body = "") =>
  Effect.async<string, Error>((resume) => {
    const { hostname, port } = new URL(origin)
    const socket = connect(Number(port), hostname, () => socket.write(head + body))
    let received = ""
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1")
      // Past any interim (1xx) answer: its headers, and its body when it declares a length.
      const final = received.replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, "")
      if (!final.startsWith("HTTP/")) return
      const end = final.indexOf("\r\n\r\n")
      const length = /content-length: (\d+)/i.exec(final)?.[1]
      if (end >= 0 && (length === undefined || final.length >= end + 4 + Number(length))) {
        socket.destroy()
        resume(Effect.succeed(received))
      }
    })
    socket.on("error", (error) => resume(Effect.fail(error)))
    return Effect.sync(() => socket.destroy())
  }).pipe(Effect.timeout("10 seconds"))

describe("request bodies (default limits)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("a body over 64 KiB is a 413 {error, message} on every route with a body; one just under is decoded", () =>
      Effect.gen(function*() {
        const { all } = yield* setUp
        for (const route of all) {
          const big = JSON.stringify({ ...route.body, padding: "x".repeat(64 * 1024) })
          expectTooLarge(yield* rawFetch(route.path, { method: route.method, headers: json, body: big }), 65536, route.path)
          // Under the limit it reaches the schema, which names the unknown field.
          const under = yield* rawFetch(route.path, { method: route.method, headers: json, body: JSON.stringify({ ...route.body, padding: "x".repeat(60_000) }) })
          expect(under.status, route.path).toBe(400)
          expect(under.body.fields, route.path).toEqual(["padding"])
        }
      }))

    it.effect("the token endpoint takes 8 KiB: a bigger form is a 413, a 7 KiB one is answered", () =>
      Effect.gen(function*() {
        const form = (size: number) => `grant_type=client_credentials&scope=${"a".repeat(size)}`
        const headers = { "content-type": "application/x-www-form-urlencoded" }
        expectTooLarge(yield* rawFetch("/oauth/token", { method: "POST", headers, body: form(8 * 1024) }), 8192, "form")
        // 20 MB declared, a start of it sent: the answer comes from the headers alone (a client
        // uploading all of it would race the server closing the connection after its 413).
        const huge = yield* rawExchange(
          yield* baseUrl,
          "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20000000\r\n\r\n",
          form(16)
        )
        expect(huge, "20 MB form").toMatch(/^HTTP\/1\.1 413 /)
        expect(huge, "20 MB form").toContain("\"error\":\"payload_too_large\"")
        expect(huge, "20 MB form").toContain("8192 bytes")
        const small = yield* rawFetch("/oauth/token", { method: "POST", headers, body: form(7 * 1024) })
        expect(small.status).toBe(401)
        expect(small.body.error).toBe("invalid_client")
      }))

    it.effect("decided before the body is read: a declared 20 MB is refused after its headers, a chunked one after 64 KiB", () =>
      Effect.gen(function*() {
        const origin = yield* baseUrl
        const { storeId } = yield* setUp
        const head = (extra: string) =>
          `POST /stores/${storeId}/webhooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminToken}\r\nContent-Type: application/json\r\n${extra}\r\n`
        const declared = yield* rawExchange(origin, head("Content-Length: 20000000\r\n"), "{\"name\":")
        expect(declared).toMatch(/^HTTP\/1\.1 413 /)
        expect(declared).toMatch(/connection: close/i)
        expect(declared).toContain("\"error\":\"payload_too_large\"")
        // Chunks past the limit, and never the last one.
        const chunk = "x".repeat(16 * 1024)
        const chunks = Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("")
        const chunked = yield* rawExchange(origin, head("Transfer-Encoding: chunked\r\n"), chunks)
        expect(chunked).toMatch(/^HTTP\/1\.1 413 /)
        // Expect: 100-continue: refused without inviting the body.
        const expecting = yield* rawExchange(origin, head("Content-Length: 20000000\r\nExpect: 100-continue\r\n"))
        expect(expecting).toMatch(/^HTTP\/1\.1 413 /)
        expect(expecting).not.toContain("100 Continue")
        // Within the limit, chunked and Expect: 100-continue bodies are served as usual.
        const body = JSON.stringify(routes(storeId, "", "")[0].body)
        const small = yield* rawExchange(origin, head("Transfer-Encoding: chunked\r\n"), `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`)
        expect(small).toMatch(/^HTTP\/1\.1 201 /)
        const continued = yield* rawExchange(origin, head(`Content-Length: ${body.length}\r\nExpect: 100-continue\r\n`), body)
        expect(continued).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /)
      }))

    it.effect("unknown fields are a 400 naming each; every failing field is reported, not only the first", () =>
      Effect.gen(function*() {
        const { all } = yield* setUp
        for (const route of all) {
          const response = yield* adminFetch(route.path, { method: route.method, body: { ...route.body, bogus: 1, "also-unknown": true } })
          expect(response.status, route.path).toBe(400)
          expect(response.body.error).toBe("invalid_request")
          expect(response.body.fields, route.path).toEqual(expect.arrayContaining(["bogus", "also-unknown"]))
          expect(response.body.message).toMatch(/bogus: is unexpected/)
        }
        const { storeId } = yield* setUp
        const several = yield* adminFetch(`/stores/${storeId}/credentials`, {
          method: "POST",
          body: { name: "", type: "NOPE", scopes: ["orders:read", "nope", 3], expiresAt: "yesterday", extra: 1 }
        })
        expect(several.status).toBe(400)
        expect(several.body.fields).toEqual(expect.arrayContaining(["name", "type", "scopes.1", "scopes.2", "expiresAt", "extra"]))
        // Each field once, its alternatives together.
        expect(several.body.fields.filter((f: string) => f === "type")).toHaveLength(1)
        expect(several.body.message).toMatch(/type: Expected "API_KEY" \| "OAUTH_CLIENT", actual "NOPE"/)
      }))

    it.effect("an error quotes at most ~100 characters of a value, a field name included, and names at most 50 fields", () =>
      Effect.gen(function*() {
        const { storeId } = yield* setUp
        const long = "y".repeat(60_000)
        const answers = [
          yield* adminFetch(`/stores/${storeId}/credentials`, { method: "POST", body: { name: long, type: "API_KEY", scopes: ["orders:read"] } }),
          yield* adminFetch(`/stores/${storeId}/credentials`, { method: "POST", body: { name: "n", type: long, scopes: ["orders:read"] } }),
          yield* adminFetch(`/stores/${storeId}/webhooks`, { method: "POST", body: { ...routes(storeId, "", "")[0].body, [long]: 1 } }),
          yield* adminFetch(`/stores/${storeId}/webhooks`, { method: "POST", body: { name: "n", targetUrl: `https://${long}.example.com/`, events: ["order.placed"] } }),
          yield* adminFetch(`/stores/${storeId}/connectors`, { method: "POST", body: { connectorType: "amazon", displayName: "d", settings: { sellerId: long } } }),
          yield* adminFetch(`/stores/${storeId}/connectors`, { method: "POST", body: { connectorType: long, displayName: "d" } }),
          yield* adminFetch(`/stores/${storeId}/webhooks`, { method: "POST", body: { name: "n", targetUrl: "https://hooks.example.com/", events: Array(3000).fill(1) } })
        ]
        for (const answer of answers) {
          expect(answer.status).toBe(400)
          const text = JSON.stringify(answer.body)
          expect(text).not.toMatch(/y{101}/)
          expect(text.length).toBeLessThan(6_000)
          expect(answer.body.message).not.toBe("")
        }
        expect(answers.at(-1)!.body.fields.length).toBeLessThanOrEqual(50)
        expect(answers.at(-1)!.body.message).toMatch(/and \d+ more field/)
      }))

    it.effect("NUL, lone surrogates, invalid UTF-8 and deep nesting get an answer naming the field, never a 500", () =>
      Effect.gen(function*() {
        const { storeId } = yield* setUp
        const send = (path: string, body: string) => rawFetch(path, { method: "POST", headers: json, body })
        const credentials = `/stores/${storeId}/credentials`
        const nul = yield* send(credentials, "{\"name\":\"a\\u0000b\",\"type\":\"API_KEY\",\"scopes\":[\"orders:read\"]}")
        expect(nul.status).toBe(400)
        expect(nul.body.fields).toEqual(["name"])
        const surrogate = yield* send(credentials, "{\"name\":\"a\\ud800b\",\"type\":\"API_KEY\",\"scopes\":[\"orders:read\"]}")
        expect(surrogate.status).toBe(400)
        expect(surrogate.body.message).toMatch(/name: is not valid Unicode/)
        const nulKey = yield* send(`/stores/${storeId}/connectors`, "{\"connectorType\":\"amazon\",\"displayName\":\"d\",\"settings\":{\"a\\u0000\":1}}")
        expect(nulKey.status).toBe(400)
        const deep = `{"eventType":"order.placed","storeId":"${storeId}","data":${"{\"a\":".repeat(5000)}1${"}".repeat(5000)}}`
        const nested = yield* send("/dev/events", deep)
        expect(nested.status).toBe(400)
        expect(nested.body.message).toMatch(/nested deeper than 64 levels/)
        const arrays = yield* send(`/stores/${storeId}/webhooks`, `${"[".repeat(30_000)}${"]".repeat(30_000)}`)
        expect(arrays.status).toBe(400)
        // Bytes that are not UTF-8 arrive as U+FFFD: stored as such or refused, never a 500.
        const base = yield* baseUrl
        const invalidUtf8 = yield* Effect.promise(() =>
          fetch(`${base}${credentials}`, {
            method: "POST",
            headers: json,
            body: Buffer.concat([Buffer.from("{\"name\":\"a"), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from("\",\"type\":\"API_KEY\",\"scopes\":[\"orders:read\"]}")])
          })
        )
        expect([201, 400]).toContain(invalidUtf8.status)
        const notJson = yield* send(credentials, "{\"name\": ")
        expect(notJson.status).toBe(400)
        expect(notJson.body.error).toBe("invalid_request")
      }))

    it.effect("the token endpoint ignores parameters it does not know (RFC 6749 §3.2) and refuses a repeated one", () =>
      Effect.gen(function*() {
        const client = yield* issue(newStoreId(), { type: "OAUTH_CLIENT" })
        const headers = { "content-type": "application/x-www-form-urlencoded" }
        const form = new URLSearchParams({ grant_type: "client_credentials", client_id: client.clientId, client_secret: client.secret, resource: "https://api.example.com" })
        const ok = yield* rawFetch("/oauth/token", { method: "POST", headers, body: form.toString() })
        expect(ok.status, JSON.stringify(ok.body)).toBe(200)
        const repeated = yield* rawFetch("/oauth/token", { method: "POST", headers, body: `${form.toString()}&grant_type=client_credentials` })
        expect(repeated.status).toBe(400)
      }))
  })
})

describe("request bodies (HTTP_MAX_BODY_BYTES=2048)", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}-small\\.`), groupId: `${prefix}-small`, isolatedDatabase: true, withoutWorkers: true, maxBodyBytes: 2048 }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("the limit is the configured one; the token endpoint keeps the smaller of the two", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const body = (size: number) => JSON.stringify({ name: "x".repeat(size), type: "API_KEY", scopes: ["orders:read"] })
        expectTooLarge(yield* rawFetch(`/stores/${storeId}/credentials`, { method: "POST", headers: json, body: body(3000) }), 2048, "3 KB")
        expect((yield* rawFetch(`/stores/${storeId}/credentials`, { method: "POST", headers: json, body: body(100) })).status).toBe(201)
        const form = `grant_type=client_credentials&scope=${"a".repeat(4000)}`
        expectTooLarge(
          yield* rawFetch("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form }),
          2048,
          "token form"
        )
      }))
  })
})
