import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import { randomUUID } from "node:crypto"
import { createServer, type Socket } from "node:net"
import type { AddressInfo } from "node:net"
import { DnsTest } from "../../src/layers/DnsLive.ts"
import { checkTargetUrl } from "../../src/programs/webhooks/targetUrl.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { createSubscription, deliveryRow, insertDelivery, newStoreId, subscriptionRow } from "./adminApiHelpers.ts"

const prefix = `target-url-${randomUUID().slice(0, 8)}`

const publicV4 = "93.184.216.34"
const publicV6 = "2606:2800:220:1:248:1893:25c8:1946"

/** What the fake DNS answers: public names, and names pointing inside. */
const dns: Record<string, ReadonlyArray<string>> = {
  "public.example": [publicV4],
  "dual.example": [publicV4, publicV6],
  "v6.example": [publicV6],
  "loopback.example": ["127.0.0.1"],
  "loopback6.example": ["::1"],
  "ten.example": ["10.1.2.3"],
  "172.example": ["172.16.5.4"],
  "172-end.example": ["172.31.255.255"],
  "192.example": ["192.168.1.10"],
  "metadata.example": ["169.254.169.254"],
  "aws6-metadata.example": ["fd00:ec2::254"],
  "linklocal6.example": ["fe80::1"],
  "ula.example": ["fd12:3456::1"],
  "mapped.example": ["::ffff:10.0.0.1"],
  "mapped-loopback.example": ["::ffff:127.0.0.1"],
  "zero.example": ["0.0.0.0"],
  "cgnat.example": ["100.64.0.1"],
  "mixed.example": [publicV4, "10.0.0.5"],
  "mixed6.example": [publicV6, "::1"],
  "empty.example": []
}

const accepted = [
  "https://public.example/hooks/ss3",
  "https://PUBLIC.example:8443/hooks?token=abc",
  "https://dual.example/",
  "https://v6.example/",
  `https://${publicV4}/hook`,
  `https://[${publicV6}]/hook`
]

/** Refused in live mode, whatever the DNS says about the rest of the world. */
const refused = [
  "http://public.example/hook", // https only
  "https://loopback.example/",
  "https://loopback6.example/",
  "https://ten.example/",
  "https://172.example/",
  "https://172-end.example/",
  "https://192.example/",
  "https://metadata.example/latest/meta-data",
  "https://aws6-metadata.example/",
  "https://linklocal6.example/",
  "https://ula.example/",
  "https://mapped.example/",
  "https://mapped-loopback.example/",
  "https://zero.example/",
  "https://cgnat.example/",
  "https://mixed.example/",
  "https://mixed6.example/",
  "https://empty.example/",
  "https://does-not-resolve.example/",
  "https://localhost/", // not in the table: the real resolver is never asked
  // IP literals, in the forms URL parsing normalises
  "https://127.0.0.1/",
  "https://127.1/",
  "https://2130706433/",
  "https://0x7f.0.0.1/",
  "https://0/",
  "https://[::1]/",
  "https://[::]/",
  "https://10.0.0.1/",
  "https://172.16.0.1/",
  "https://192.168.0.1:8443/",
  "https://169.254.169.254/latest/meta-data/",
  "https://[fe80::1]/",
  "https://[::ffff:10.0.0.1]/",
  "https://[::ffff:127.0.0.1]/",
  "https://[::ffff:169.254.169.254]/",
  "https://[fd00:ec2::254]/"
]

const live = { allowInsecure: false }
const check = (url: string, policy = live) =>
  checkTargetUrl(url, policy).pipe(Effect.either, Effect.provide(DnsTest(dns)))

describe("checkTargetUrl (unit, fixed DNS table)", () => {
  it.effect("accepts https URLs whose every address is public", () =>
    Effect.gen(function*() {
      for (const url of accepted) {
        const result = yield* check(url)
        expect(Either.isRight(result), `${url}: ${JSON.stringify(result)}`).toBe(true)
      }
      // It answers the normalised URL.
      expect(yield* check("https://PUBLIC.example:443/a b")).toEqual(Either.right("https://public.example/a%20b"))
    }))

  it.effect("refuses http, and names or literals that reach loopback, private, link-local or metadata addresses", () =>
    Effect.gen(function*() {
      for (const url of refused) {
        const result = yield* check(url)
        expect(Either.isLeft(result), `${url} was accepted`).toBe(true)
        if (Either.isLeft(result)) expect(result.left, url).toMatch(/^targetUrl: /)
      }
      expect(yield* check("https://does-not-resolve.example/")).toEqual(
        Either.left(expect.stringContaining("does not resolve"))
      )
      expect(yield* check("http://public.example/")).toEqual(Either.left(expect.stringContaining("https")))
    }))

  it.effect("refuses what is not an http(s) URL, and credentials, in every mode", () =>
    Effect.gen(function*() {
      for (const policy of [live, { allowInsecure: true }]) {
        for (const url of ["", "public.example", "ftp://public.example/", "file:///etc/passwd", "javascript:alert(1)", "gopher://public.example/"]) {
          const result = yield* check(url, policy)
          expect(Either.isLeft(result), `${url} (${JSON.stringify(policy)})`).toBe(true)
        }
        for (const url of ["https://u:p@public.example/", "https://u@public.example/", "https://:p@public.example/"]) {
          expect(yield* check(url, policy)).toEqual(Either.left(expect.stringContaining("credentials")))
        }
      }
    }))

  it.effect("with insecure targets allowed (dev mode), accepts http and local targets without asking DNS", () =>
    Effect.gen(function*() {
      const insecure = { allowInsecure: true }
      for (const url of ["http://localhost:3000/hook", "http://127.0.0.1:8080/", "https://10.0.0.1/", "http://does-not-resolve.example/"]) {
        const result = yield* checkTargetUrl(url, insecure).pipe(Effect.either, Effect.provide(DnsTest({})))
        expect(Either.isRight(result), `${url}: ${JSON.stringify(result)}`).toBe(true)
      }
    }))
})

/** A TCP listener on 127.0.0.1 that counts connections (and answers none). */
const connectionCounter = Effect.gen(function*() {
  let count = 0
  const sockets = new Set<Socket>()
  const server = yield* Effect.acquireRelease(
    Effect.async<ReturnType<typeof createServer>>((resume) => {
      const s = createServer((socket) => {
        count += 1
        sockets.add(socket)
        socket.destroy()
      })
      s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
    }),
    (s) =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        s.close(() => resume(Effect.void))
      })
  )
  return { port: (server.address() as AddressInfo).port, connections: Effect.sync(() => count) }
})

describe("target URLs through the admin API, live mode", () => {
  layer(
    TestApp({
      eventTopics: new RegExp(`^${prefix}-live\\.`),
      groupId: `${prefix}-live`,
      mode: "live",
      allowInsecureTargets: false,
      isolatedDatabase: true,
      // `localhost` looks public to the creation check; connecting uses the real resolver.
      dns: { ...dns, localhost: [publicV4] }
    }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("create accepts public https targets and refuses the rest with a 400 naming targetUrl", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const targetUrl of accepted) {
          const response = yield* adminFetch(`/stores/${storeId}/webhooks`, {
            method: "POST",
            body: { name: "x", targetUrl, events: ["order.placed"] }
          })
          expect(response.status, `${targetUrl}: ${JSON.stringify(response.body)}`).toBe(201)
        }
        for (const targetUrl of refused.filter((url) => url !== "https://localhost/")) {
          const response = yield* adminFetch(`/stores/${storeId}/webhooks`, {
            method: "POST",
            body: { name: "x", targetUrl, events: ["order.placed"] }
          })
          expect(response.status, `${targetUrl} was accepted`).toBe(400)
          expect(response.body).toMatchObject({ error: "invalid_request", message: expect.stringMatching(/^targetUrl: /) })
        }
        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.body.items).toHaveLength(accepted.length)
      }))

    it.effect("update refuses a private target and keeps the old one", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId, { targetUrl: "https://public.example/hook" })
        for (const targetUrl of ["https://metadata.example/", "https://[::1]/", "http://public.example/", "https://mixed.example/"]) {
          const response = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`, { method: "PATCH", body: { targetUrl } })
          expect(response.status, targetUrl).toBe(400)
          expect(response.body.message).toMatch(/^targetUrl: /)
        }
        expect((yield* subscriptionRow(created.id))!.target_url).toBe("https://public.example/hook")
        const ok = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`, {
          method: "PATCH",
          body: { targetUrl: "https://dual.example/in" }
        })
        expect(ok.status).toBe(200)
        expect(ok.body.targetUrl).toBe("https://dual.example/in")
      }))

    it.scoped("a name that resolved to a public address at creation but to loopback when connecting is never dialled", () =>
      Effect.gen(function*() {
        const listener = yield* connectionCounter
        const storeId = newStoreId()
        // The DNS table says localhost is public, so the subscription is accepted ...
        const created = yield* createSubscription(storeId, { targetUrl: `https://localhost:${listener.port}/hook` })
        // ... but the connect-time lookup (the system resolver) says 127.0.0.1 / ::1.
        const d = yield* insertDelivery({ subscriptionId: created.id, storeId, status: "PENDING", nextRetryAt: new Date().toISOString() })
        const detail = yield* eventually(
          adminFetch(`/stores/${storeId}/deliveries/${d.id}`),
          (r) => r.body?.attempts?.length >= 1,
          "20 seconds"
        )
        expect(detail.body.status).toBe("FAILED")
        expect(detail.body.httpStatus).toBeNull()
        expect(detail.body.attempts[0].error).toMatch(/BlockedAddress/)
        expect(detail.body.attempts[0].error).toMatch(/localhost/)
        expect(yield* listener.connections).toBe(0)
      }))

    it.scoped("a stored private IP literal or http target (policy changed since) is never dialled either", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const listener = yield* connectionCounter
        const storeId = newStoreId()
        const literal = yield* createSubscription(storeId, { name: "literal", targetUrl: "https://public.example/hook" })
        const insecure = yield* createSubscription(storeId, { name: "insecure", targetUrl: "https://public.example/hook" })
        // As if written while WEBHOOK_ALLOW_INSECURE_TARGETS was on.
        yield* sql`UPDATE webhook_subscriptions SET target_url = ${`https://127.0.0.1:${listener.port}/hook`}
                   WHERE subscription_id = ${literal.id}`
        yield* sql`UPDATE webhook_subscriptions SET target_url = ${`http://localhost:${listener.port}/hook`}
                   WHERE subscription_id = ${insecure.id}`
        const now = new Date().toISOString()
        const d1 = yield* insertDelivery({ subscriptionId: literal.id, storeId, status: "PENDING", nextRetryAt: now })
        const d2 = yield* insertDelivery({ subscriptionId: insecure.id, storeId, status: "PENDING", nextRetryAt: now })
        const attempted = (id: string) =>
          eventually(adminFetch(`/stores/${storeId}/deliveries/${id}`), (r) => r.body?.attempts?.length >= 1, "20 seconds")
        const first = yield* attempted(d1.id)
        expect(first.body.attempts[0].error).toMatch(/BlockedAddress/)
        const second = yield* attempted(d2.id)
        expect(second.body.attempts[0].error).toMatch(/InsecureTarget/)
        expect((yield* deliveryRow(d1.id))!.status).toBe("FAILED")
        expect((yield* deliveryRow(d2.id))!.status).toBe("FAILED")
        expect(yield* listener.connections).toBe(0)
      }))
  })
})

describe("target URLs through the admin API, dev mode", () => {
  layer(
    TestApp({
      eventTopics: new RegExp(`^${prefix}-dev\\.`),
      groupId: `${prefix}-dev`,
      mode: "dev",
      // Dev mode alone must allow local http targets (not only the insecure-targets switch).
      allowInsecureTargets: false,
      withoutWorkers: true
    }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("accepts http://localhost and other local http targets", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const targetUrl of ["http://localhost:3000/hook", "http://127.0.0.1:8080/in", "http://[::1]:9000/"]) {
          const created = yield* createSubscription(storeId, { targetUrl })
          expect(created.targetUrl).toBe(targetUrl)
        }
        // Still not anything at all.
        for (const targetUrl of ["ftp://localhost/", "http://user:pw@localhost/"]) {
          const response = yield* adminFetch(`/stores/${storeId}/webhooks`, {
            method: "POST",
            body: { name: "x", targetUrl, events: ["order.placed"] }
          })
          expect(response.status, targetUrl).toBe(400)
          expect(response.body.message).toMatch(/^targetUrl: /)
        }
      }))
  })
})
