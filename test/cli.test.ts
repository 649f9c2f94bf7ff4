import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Queue, Redacted, Schema } from "effect"
import { inject } from "vitest"
import { deliveriesCommand } from "../src/cli/commands/deliveries.ts"
import { eventsCommand, parseBrokers, parseEventData } from "../src/cli/commands/events.ts"
import { formatDeliveryLine, makeReceiver, type ReceivedDelivery } from "../src/cli/commands/receiver.ts"
import { subscriptionsCommand } from "../src/cli/commands/subscriptions.ts"
import { CliError, resolveToken } from "../src/cli/client.ts"
import { formatFields, formatTable, truncate } from "../src/cli/format.ts"
import { EventEnvelopeFromJson } from "../src/domain/EventEnvelope.ts"
import { importSigningKey, sign } from "../src/domain/webhooks/signature.ts"
import { makeKafkaLive } from "../src/layers/KafkaLive.ts"
import { NodeContext } from "@effect/platform-node"
import { makeCli, type Route, stubAdminApi } from "./support/cliHarness.ts"

// ---------------------------------------------------------------------------------------------
// Helpers

const TOKEN = "test-admin-token-s3cr3t"
const STORE = "store-1"
const DELIVERY_ID = "0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11"
const SUBSCRIPTION_ID = "6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42"
const EVENT_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

const delivery = (overrides: Record<string, unknown> = {}) => ({
  id: DELIVERY_ID,
  subscriptionId: SUBSCRIPTION_ID,
  storeId: STORE,
  eventType: "order.placed",
  eventId: EVENT_ID,
  status: "DEAD_LETTERED",
  attemptNumber: 5,
  httpStatus: 503,
  responseBody: "unavailable",
  nextRetryAt: null,
  deliveredAt: null,
  createdAt: "2024-05-01T12:00:00.000Z",
  updatedAt: "2024-05-01T14:37:00.000Z",
  ...overrides
})

const stubApi = (route: Route) => stubAdminApi(TOKEN, route)
const cli = makeCli([deliveriesCommand, subscriptionsCommand, eventsCommand])

// ---------------------------------------------------------------------------------------------

describe("format", () => {
  it("aligns columns to the widest cell, header first, numbers right-aligned, no trailing spaces", () => {
    const rows = [
      { id: "a", status: "DELIVERED", attempts: 1 },
      { id: "bbbbbb", status: "FAILED", attempts: 12 }
    ]
    const text = formatTable(
      [
        { header: "ID", value: (r: typeof rows[number]) => r.id },
        { header: "ATTEMPTS", value: (r) => String(r.attempts), align: "right" },
        { header: "STATUS", value: (r) => r.status }
      ],
      rows
    )
    expect(text.split("\n")).toEqual([
      "ID      ATTEMPTS  STATUS",
      "a              1  DELIVERED",
      "bbbbbb        12  FAILED"
    ])
  })

  it("prints the header alone for no rows, and keeps a control character from breaking a row", () => {
    const columns = [{ header: "NAME", value: (r: { name: string }) => r.name }, { header: "X", value: () => "x" }]
    expect(formatTable(columns, [])).toBe("NAME  X")
    expect(formatTable(columns, [{ name: "a\nb\tc" }]).split("\n")).toEqual(["NAME   X", "a b c  x"])
  })

  it("truncates with an ellipsis and pads field labels", () => {
    expect(truncate("abcdef", 4)).toBe("abc…")
    expect(truncate("abc", 4)).toBe("abc")
    expect(formatFields([["id", "1"], ["status", "FAILED"]])).toBe("id      1\nstatus  FAILED")
  })
})

describe("events publish --data", () => {
  it.effect("accepts a JSON object", () =>
    Effect.gen(function*() {
      expect(yield* parseEventData(`{"orderId":"o-1","total":12.5}`)).toEqual({ orderId: "o-1", total: 12.5 })
      expect(yield* parseEventData("{}")).toEqual({})
    }))

  it.effect("refuses anything else with one clear message", () =>
    Effect.gen(function*() {
      for (const [input, expected] of [
        ["[1,2]", /must be a JSON object.*got an array/],
        ["\"text\"", /must be a JSON object.*got a string/],
        ["null", /must be a JSON object.*got null/],
        ["42", /must be a JSON object.*got a number/],
        ["{orderId: 1}", /--data is not valid JSON/]
      ] as const) {
        const error = yield* Effect.flip(parseEventData(input))
        expect(error).toBeInstanceOf(CliError)
        expect(error.message).toMatch(expected)
      }
    }))

  it.scoped("is checked before anything is sent", () =>
    Effect.gen(function*() {
      const api = yield* stubApi(() => ({ status: 202, body: { topic: "order.placed", eventId: EVENT_ID } }))
      const result = yield* cli([
        "events", "publish", "--type", "order.placed", "--store", STORE, "--data", "[1]", "--url", api.url, "--token", TOKEN
      ])
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toMatch(/^error: --data must be a JSON object/)
      expect(result.stderr.split("\n")).toHaveLength(1)
      expect(api.requests).toHaveLength(0)
    }))

  it("reads --brokers / KAFKA_BROKERS as a comma-separated list, empty meaning not given", () => {
    expect(parseBrokers(Option.some(" a:9092, b:9092 ,"))).toEqual(["a:9092", "b:9092"])
    expect(parseBrokers(Option.some(""))).toEqual([])
    expect(parseBrokers(Option.none())).toEqual([])
  })
})

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

describe("admin API client commands", () => {
  it.scoped("deliveries list calls GET /stores/{store}/deliveries with the filters and the bearer token, and prints a table", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "GET" && req.url.startsWith(`/stores/${STORE}/deliveries?`)
          ? {
            status: 200,
            body: {
              items: [
                delivery(),
                delivery({
                  id: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                  status: "FAILED",
                  eventType: "inventory.updated",
                  attemptNumber: 2,
                  httpStatus: null,
                  nextRetryAt: "2024-05-01T12:06:00.000Z"
                })
              ],
              nextCursor: "cursor-2"
            }
          }
          : undefined
      )
      const result = yield* cli([
        "deliveries", "list", "--store", STORE, "--status", "FAILED", "--event-type", "order.placed",
        "--limit", "2", "--url", api.url, "--token", TOKEN
      ])
      expect(result.stderr).toBe("")
      expect(result.exitCode).toBe(0)

      expect(api.requests).toHaveLength(1)
      const request = api.requests[0]!
      expect(request.authorization).toBe(`Bearer ${TOKEN}`)
      const url = new URL(request.url, api.url)
      expect(url.pathname).toBe(`/stores/${STORE}/deliveries`)
      expect(Object.fromEntries(url.searchParams)).toEqual({ status: "FAILED", eventType: "order.placed", limit: "2" })

      const lines = result.stdout.split("\n")
      expect(lines[0]).toMatch(/^ID\s+STATUS\s+EVENT TYPE\s+ATTEMPTS\s+HTTP\s+NEXT RETRY\s+CREATED$/)
      expect(lines[1]).toMatch(
        new RegExp(`^${DELIVERY_ID}\\s+DEAD_LETTERED\\s+order\\.placed\\s+5\\s+503\\s+-\\s+2024-05-01T12:00:00Z$`)
      )
      expect(lines[2]).toMatch(/FAILED\s+inventory\.updated\s+2\s+-\s+2024-05-01T12:06:00Z\s+2024-05-01T12:00:00Z$/)
      // Columns line up: every row's STATUS starts where the header's does.
      const statusAt = lines[0]!.indexOf("STATUS")
      expect(lines[1]!.indexOf("DEAD_LETTERED")).toBe(statusAt)
      expect(lines[2]!.indexOf("FAILED")).toBe(statusAt)
      expect(result.stdout).toContain("--cursor cursor-2")
      expect(result.stdout).not.toContain(TOKEN)
    }))

  it.scoped("deliveries list --json prints the page as JSON", () =>
    Effect.gen(function*() {
      const api = yield* stubApi(() => ({ status: 200, body: { items: [delivery()], nextCursor: null } }))
      const result = yield* cli(["deliveries", "list", "--store", STORE, "--json", "--url", api.url, "--token", TOKEN])
      expect(result.exitCode).toBe(0)
      const page = JSON.parse(result.stdout) as { items: Array<{ id: string; createdAt: string }>; nextCursor: null }
      expect(page.nextCursor).toBeNull()
      expect(page.items[0]).toMatchObject({ id: DELIVERY_ID, createdAt: "2024-05-01T12:00:00.000Z" })
    }))

  it.scoped("deliveries retry without an id is a bulk replay: POST …/deliveries/retry, prints the count", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "POST" && req.url === `/stores/${STORE}/deliveries/retry`
          ? { status: 202, body: { retried: 3 } }
          : undefined
      )
      const result = yield* cli([
        "deliveries", "retry", "--store", STORE, "--since", "2024-05-01T00:00:00Z", "--subscription", SUBSCRIPTION_ID,
        "--url", api.url, "--token", TOKEN
      ])
      expect(result.stderr).toBe("")
      expect(result.stdout).toBe("retried 3 deliveries")
      expect(api.requests).toHaveLength(1)
      expect(api.requests[0]!.authorization).toBe(`Bearer ${TOKEN}`)
      expect(JSON.parse(api.requests[0]!.body)).toEqual({
        status: "DEAD_LETTERED",
        since: "2024-05-01T00:00:00.000Z",
        subscriptionId: SUBSCRIPTION_ID
      })

      const failed = yield* cli(["deliveries", "retry", "--store", STORE, "--status", "FAILED", "--url", api.url, "--token", TOKEN])
      expect(failed.stdout).toBe("retried 3 deliveries")
      expect(JSON.parse(api.requests[1]!.body)).toEqual({ status: "FAILED" })
    }))

  it.scoped("deliveries retry ID re-triggers that one delivery", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "POST" && req.url === `/stores/${STORE}/deliveries/${DELIVERY_ID}/retry`
          ? { status: 202, body: delivery({ status: "PENDING", attemptNumber: 0 }) }
          : undefined
      )
      const result = yield* cli(["deliveries", "retry", DELIVERY_ID, "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(result.stderr).toBe("")
      expect(result.stdout).toContain(`retried delivery ${DELIVERY_ID}`)
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`POST /stores/${STORE}/deliveries/${DELIVERY_ID}/retry`])

      const mixed = yield* cli([
        "deliveries", "retry", DELIVERY_ID, "--store", STORE, "--status", "FAILED", "--url", api.url, "--token", TOKEN
      ])
      expect(mixed.exitCode).toBe(1)
      expect(mixed.stderr).toMatch(/^error: --status cannot be combined with a delivery id/)
      expect(api.requests).toHaveLength(1)
    }))

  it.scoped("deliveries show prints the delivery and its attempts", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.url === `/stores/${STORE}/deliveries/${DELIVERY_ID}`
          ? {
            status: 200,
            body: {
              ...delivery(),
              payload: { eventId: EVENT_ID },
              attempts: [
                { attemptNumber: 1, startedAt: "2024-05-01T12:00:00.000Z", durationMs: 120, httpStatus: 503, responseBody: "unavailable", error: null },
                { attemptNumber: 2, startedAt: "2024-05-01T12:01:00.000Z", durationMs: 10000, httpStatus: null, responseBody: null, error: "timeout after 10000 ms" }
              ]
            }
          }
          : undefined
      )
      const result = yield* cli(["deliveries", "show", DELIVERY_ID, "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(result.stderr).toBe("")
      expect(result.stdout).toMatch(new RegExp(`^delivery\\s+${DELIVERY_ID}$`, "m"))
      expect(result.stdout).toMatch(/^status\s+DEAD_LETTERED$/m)
      expect(result.stdout).toMatch(/^#\s+STARTED\s+DURATION\s+HTTP\s+ERROR \/ RESPONSE$/m)
      expect(result.stdout).toMatch(/^2\s+2024-05-01T12:01:00Z\s+10000 ms\s+-\s+timeout after 10000 ms$/m)
    }))

  it.scoped("API errors, a wrong token and an unreachable server are one line on stderr and exit status 1", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.url.startsWith(`/stores/${STORE}/deliveries/`)
          ? { status: 404, body: { error: "not_found", message: "delivery not found" } }
          : undefined
      )
      const notFound = yield* cli(["deliveries", "show", DELIVERY_ID, "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(notFound.exitCode).toBe(1)
      expect(notFound.stderr).toBe("error: not_found (HTTP 404): delivery not found")
      expect(Exit.isSuccess(notFound.exit)).toBe(true)

      const wrongToken = "wrong-token-do-not-print"
      const unauthorized = yield* cli(["deliveries", "list", "--store", STORE, "--url", api.url, "--token", wrongToken])
      expect(unauthorized.exitCode).toBe(1)
      expect(unauthorized.stderr).toMatch(/^error: unauthorized \(HTTP 401\): missing or invalid credentials/)
      expect(unauthorized.stderr.split("\n")).toHaveLength(1)
      expect(unauthorized.stderr + unauthorized.stdout).not.toContain(wrongToken)

      const badId = yield* cli(["deliveries", "show", "nope", "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(badId.stderr).toBe(`error: delivery id "nope" is invalid: expected a UUID`)

      // A port that was free a moment ago: nothing listens there.
      const closed = yield* Effect.scoped(stubApi(() => undefined)).pipe(Effect.map((s) => s.url))
      const refused = yield* cli(["subscriptions", "list", "--store", STORE, "--url", closed, "--token", TOKEN])
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toBe(
        `error: cannot reach integration-service at ${closed}: connection refused (is it running? set --url or INTEGRATION_SERVICE_URL)`
      )
    }))

  it.scoped("subscriptions list prints a table", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "GET" && req.url === `/stores/${STORE}/webhooks`
          ? {
            status: 200,
            body: {
              items: [{
                id: SUBSCRIPTION_ID,
                storeId: STORE,
                name: "ERP",
                targetUrl: "https://erp.example.com/hooks",
                events: ["order.placed", "order.fulfilled"],
                isActive: true,
                health: {
                  state: "failing",
                  consecutiveFailures: 3,
                  lastSuccessAt: null,
                  lastFailureAt: "2024-05-01T12:05:00.000Z",
                  backlog: 7
                },
                createdAt: "2024-05-01T12:00:00.000Z",
                updatedAt: "2024-05-01T12:00:00.000Z"
              }]
            }
          }
          : undefined
      )
      const result = yield* cli(["subscriptions", "list", "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(result.stderr).toBe("")
      const lines = result.stdout.split("\n")
      expect(lines[0]).toMatch(/^ID\s+NAME\s+TARGET URL\s+EVENTS\s+ACTIVE\s+HEALTH\s+FAILING\s+BACKLOG\s+CREATED$/)
      expect(lines[1]).toMatch(
        new RegExp(`^${SUBSCRIPTION_ID}\\s+ERP\\s+https://erp\\.example\\.com/hooks\\s+order\\.placed,order\\.fulfilled\\s+yes\\s+failing\\s+3\\s+7\\s+`)
      )
      expect(api.requests[0]!.authorization).toBe(`Bearer ${TOKEN}`)
    }))

  it.scoped("events publish without brokers goes through the dev server's POST /dev/events", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "POST" && req.url === "/dev/events"
          ? { status: 202, body: { topic: "order.placed", eventId: EVENT_ID } }
          : undefined
      )
      const result = yield* cli([
        "events", "publish", "--type", "order.placed", "--store", STORE, "--data", `{"orderId":"o-1"}`,
        "--event-id", EVENT_ID, "--url", api.url, "--token", TOKEN
      ])
      expect(result.stderr).toBe("")
      expect(result.stdout).toContain("topic order.placed")
      expect(result.stdout).toContain(`event id ${EVENT_ID}`)
      expect(api.requests[0]!.authorization).toBe(`Bearer ${TOKEN}`)
      expect(JSON.parse(api.requests[0]!.body)).toEqual({
        eventType: "order.placed",
        storeId: STORE,
        data: { orderId: "o-1" },
        eventId: EVENT_ID
      })

      const live = yield* stubApi(() => undefined)
      const notDev = yield* cli(["events", "publish", "--type", "order.placed", "--store", STORE, "--url", live.url, "--token", TOKEN])
      expect(notDev.exitCode).toBe(1)
      expect(notDev.stderr).toMatch(/^error: POST \/dev\/events is served only in dev mode.*--brokers/)
    }))

  it.effect("without --token or ADMIN_TOKEN the token dev mode stored is used; without one, a clear error", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(resolveToken(Option.none(), `/nonexistent-${crypto.randomUUID()}`))
      expect(missing.message).toMatch(/^no admin token: pass --token or set ADMIN_TOKEN/)
      const given = yield* resolveToken(Option.some(Redacted.make("abc")), "/nonexistent")
      expect(Redacted.value(given)).toBe("abc")
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("events publish via Kafka", () => {
  const brokers = inject("kafkaBrokers")

  it.scoped.skipIf(!brokers)("publishes the full envelope, keyed by the store id, to the topic", () =>
    Effect.gen(function*() {
      const topic = `cli-test-${crypto.randomUUID()}`
      const result = yield* cli([
        "events", "publish", "--type", "order.placed", "--store", STORE, "--data", `{"orderId":"o-9"}`,
        "--event-id", EVENT_ID, "--topic", topic, "--brokers", brokers
      ])
      expect(result.stderr).toBe("")
      expect(result.stdout).toContain(`topic ${topic}`)

      const kafka = yield* makeKafkaLive({ brokers: brokers.split(","), clientId: "cli-test" })
      const received = yield* Queue.unbounded<{ key: string | null; value: Uint8Array | null }>()
      yield* kafka.consume(
        { groupId: `cli-test-${crypto.randomUUID()}`, topics: new RegExp(`^${topic}$`) },
        (m) => Queue.offer(received, m)
      )
      const message = yield* Queue.take(received).pipe(Effect.timeout("30 seconds"))
      expect(message.key).toBe(STORE)
      const envelope = yield* Schema.decodeUnknown(EventEnvelopeFromJson)(new TextDecoder().decode(message.value!))
      expect(envelope).toMatchObject({ eventId: EVENT_ID, eventType: "order.placed", storeId: STORE, data: { orderId: "o-9" } })
    }), 90_000)
})
