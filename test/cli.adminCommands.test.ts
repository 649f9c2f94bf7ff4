/**
 * `integration-service deliveries|subscriptions|events` against a canned admin API on 127.0.0.1:0:
 * the calls they make, what they print, and how failures and the token are reported.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted } from "effect"
import { deliveriesCommand } from "../src/cli/commands/deliveries.ts"
import { eventsCommand } from "../src/cli/commands/events.ts"
import { subscriptionsCommand } from "../src/cli/commands/subscriptions.ts"
import { resolveToken } from "../src/cli/client.ts"
import { NodeContext } from "@effect/platform-node"
import { makeCli, type Route, stubAdminApi } from "./support/cliHarness.ts"

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

      // Port 2: privileged, never handed out by listen(0), so nothing listens there (fetch refuses port 1 itself).
      const closed = "http://127.0.0.1:2"
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
