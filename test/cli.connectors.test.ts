/**
 * `integration-service connectors list|poll|log` against a canned admin API on
 * 127.0.0.1:0 (as test/cli.adminCommands.test.ts does for the other client commands).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { connectorsCommand } from "../src/cli/commands/connectors.ts"
import { makeCli, type Route, stubAdminApi } from "./support/cliHarness.ts"

const TOKEN = "test-admin-token-conn3ct0rs"
const STORE = "store-1"
const CONFIG_ID = "3f1c0e2a-9b11-4c8e-9d59-0b7c6f3e5a43"
const OTHER_ID = "7a42d2b1-e0a7-4c4f-8b0e-1e5d9c3b6d2b"

const config = (overrides: Record<string, unknown> = {}) => ({
  id: CONFIG_ID,
  storeId: STORE,
  connectorType: "amazon",
  displayName: "Amazon US",
  isActive: true,
  eventSubscriptions: ["product.updated", "inventory.updated"],
  settings: { sellerId: "A2SELLER1", marketplaceId: "ATVPDKIKX0DER", pollIntervalSeconds: 300 },
  hasCredentials: true,
  createdAt: "2024-05-01T12:00:00.000Z",
  updatedAt: "2024-05-01T12:30:00.000Z",
  ...overrides
})

const run = (overrides: Record<string, unknown> = {}) => ({
  id: "0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11",
  configId: CONFIG_ID,
  direction: "INBOUND",
  entityType: "order",
  recordCount: 3,
  status: "SUCCEEDED",
  errorSummary: null,
  startedAt: "2024-05-01T12:00:00.000Z",
  finishedAt: "2024-05-01T12:00:01.250Z",
  ...overrides
})

const stubApi = (route: Route) => stubAdminApi(TOKEN, route)
const cli = makeCli([connectorsCommand])

describe("connectors commands", () => {
  it.scoped("connectors list calls GET /stores/{store}/connectors and prints a table", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "GET" && req.url === `/stores/${STORE}/connectors`
          ? {
            status: 200,
            body: {
              items: [
                config(),
                config({
                  id: OTHER_ID,
                  connectorType: "google-shopping",
                  displayName: "Google",
                  isActive: false,
                  hasCredentials: false,
                  eventSubscriptions: [],
                  settings: { accountId: "123", dataSourceId: "ds" }
                })
              ]
            }
          }
          : undefined
      )
      const result = yield* cli(["connectors", "list", "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(result.stderr).toBe("")
      expect(result.exitCode).toBe(0)
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /stores/${STORE}/connectors`])
      expect(api.requests[0]!.authorization).toBe(`Bearer ${TOKEN}`)
      const lines = result.stdout.split("\n")
      expect(lines[0]).toMatch(/^ID\s+TYPE\s+NAME\s+ACTIVE\s+CREDENTIALS\s+EVENTS\s+POLL\s+UPDATED$/)
      expect(lines[1]).toMatch(
        new RegExp(`^${CONFIG_ID}\\s+amazon\\s+Amazon US\\s+yes\\s+yes\\s+product\\.updated,inventory\\.updated\\s+300 s\\s+2024-05-01T12:30:00Z$`)
      )
      expect(lines[2]).toMatch(new RegExp(`^${OTHER_ID}\\s+google-shopping\\s+Google\\s+no\\s+no\\s+-\\s+-\\s+2024-05-01T12:30:00Z$`))
      expect(lines[1]!.indexOf("amazon")).toBe(lines[0]!.indexOf("TYPE"))
      expect(result.stdout).not.toContain(TOKEN)

      const json = yield* cli(["connectors", "list", "--store", STORE, "--json", "--url", api.url, "--token", TOKEN])
      expect(json.exitCode).toBe(0)
      const parsed = JSON.parse(json.stdout) as { items: Array<{ id: string; updatedAt: string }> }
      expect(parsed.items.map((c) => c.id)).toEqual([CONFIG_ID, OTHER_ID])
      expect(parsed.items[0]!.updatedAt).toBe("2024-05-01T12:30:00.000Z")

      const empty = yield* stubApi(() => ({ status: 200, body: { items: [] } }))
      expect((yield* cli(["connectors", "list", "--store", STORE, "--url", empty.url, "--token", TOKEN])).stdout).toBe("no connectors")
    }))

  it.scoped("connectors poll ID calls POST …/connectors/{id}/poll and prints the status and record count", () =>
    Effect.gen(function*() {
      let answer: { status: number; body: unknown } = { status: 200, body: { status: "SUCCEEDED", recordCount: 3, error: null } }
      const api = yield* stubApi((req) =>
        req.method === "POST" && req.url === `/stores/${STORE}/connectors/${CONFIG_ID}/poll` ? answer : undefined
      )
      const args = ["connectors", "poll", CONFIG_ID, "--store", STORE, "--url", api.url, "--token", TOKEN]
      const ok = yield* cli(args)
      expect(ok.stderr).toBe("")
      expect(ok.exitCode).toBe(0)
      expect(ok.stdout.split("\n")).toEqual(["status   SUCCEEDED", "records  3"])
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`POST /stores/${STORE}/connectors/${CONFIG_ID}/poll`])
      expect(api.requests[0]!.authorization).toBe(`Bearer ${TOKEN}`)

      // A FAILED run: printed, exit status 1.
      answer = { status: 200, body: { status: "FAILED", recordCount: 0, error: "Throttled: getOrders: QuotaExceeded" } }
      const failed = yield* cli(args)
      expect(failed.exitCode).toBe(1)
      expect(failed.stdout.split("\n")).toEqual(["status   FAILED", "records  0", "error    Throttled: getOrders: QuotaExceeded"])

      const json = yield* cli([...args, "--json"])
      expect(JSON.parse(json.stdout)).toEqual({ status: "FAILED", recordCount: 0, error: "Throttled: getOrders: QuotaExceeded" })
      expect(json.exitCode).toBe(1)

      // Another instance is polling it: the API's 409, one line.
      answer = { status: 409, body: { error: "conflict", message: "another instance is polling this connector now" } }
      const busy = yield* cli(args)
      expect(busy.exitCode).toBe(1)
      expect(busy.stdout).toBe("")
      expect(busy.stderr).toBe("error: conflict (HTTP 409): another instance is polling this connector now")

      answer = { status: 404, body: { error: "not_found", message: "connector config not found" } }
      const missing = yield* cli(args)
      expect(missing.exitCode).toBe(1)
      expect(missing.stderr).toBe("error: not_found (HTTP 404): connector config not found")

      const before = api.requests.length
      const badId = yield* cli(["connectors", "poll", "nope", "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(badId.exitCode).toBe(1)
      expect(badId.stderr).toBe(`error: connector id "nope" is invalid: expected a UUID`)
      const badStore = yield* cli(["connectors", "poll", CONFIG_ID, "--store", "bad store", "--url", api.url, "--token", TOKEN])
      expect(badStore.exitCode).toBe(1)
      expect(badStore.stderr).toMatch(/^error: --store "bad store" is invalid/)
      expect(api.requests.length).toBe(before)
    }))

  it.scoped("connectors log ID prints the sync log as a table; --limit is passed on and checked", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "GET" && req.url.startsWith(`/stores/${STORE}/connectors/${CONFIG_ID}/sync-log`)
          ? {
            status: 200,
            body: {
              items: [
                run(),
                run({
                  id: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                  direction: "OUTBOUND",
                  entityType: "product",
                  recordCount: 0,
                  status: "FAILED",
                  errorSummary: "Rejected: putListingsItem: HTTP 400: InvalidInput: Value for 'item_name' exceeds 200 characters",
                  startedAt: "2024-05-01T11:59:00.000Z",
                  finishedAt: "2024-05-01T11:59:00.042Z"
                }),
                run({ id: "2c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", status: "RUNNING", finishedAt: null, recordCount: 0 })
              ]
            }
          }
          : undefined
      )
      const result = yield* cli([
        "connectors", "log", CONFIG_ID, "--store", STORE, "--limit", "20", "--url", api.url, "--token", TOKEN
      ])
      expect(result.stderr).toBe("")
      expect(result.exitCode).toBe(0)
      const url = new URL(api.requests[0]!.url, api.url)
      expect(url.pathname).toBe(`/stores/${STORE}/connectors/${CONFIG_ID}/sync-log`)
      expect(Object.fromEntries(url.searchParams)).toEqual({ limit: "20" })
      const lines = result.stdout.split("\n")
      expect(lines[0]).toMatch(/^STARTED\s+DIRECTION\s+ENTITY\s+RECORDS\s+STATUS\s+DURATION\s+ERROR$/)
      expect(lines[1]).toMatch(/^2024-05-01T12:00:00Z\s+INBOUND\s+order\s+3\s+SUCCEEDED\s+1250 ms\s+-$/)
      expect(lines[2]).toMatch(
        /^2024-05-01T11:59:00Z\s+OUTBOUND\s+product\s+0\s+FAILED\s+42 ms\s+Rejected: putListingsItem: HTTP 400: InvalidInput: Value for 'item_name' exceed…$/
      )
      expect(lines[3]).toMatch(/\s+RUNNING\s+-\s+-$/)
      expect(lines[2]!.indexOf("FAILED")).toBe(lines[0]!.indexOf("STATUS"))

      // Without --limit: none sent (the server's default).
      yield* cli(["connectors", "log", CONFIG_ID, "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(new URL(api.requests[1]!.url, api.url).search).toBe("")

      const json = yield* cli(["connectors", "log", CONFIG_ID, "--store", STORE, "--json", "--url", api.url, "--token", TOKEN])
      expect((JSON.parse(json.stdout) as { items: Array<unknown> }).items).toHaveLength(3)

      const before = api.requests.length
      const badLimit = yield* cli(["connectors", "log", CONFIG_ID, "--store", STORE, "--limit", "0", "--url", api.url, "--token", TOKEN])
      expect(badLimit.exitCode).toBe(1)
      expect(badLimit.stderr).toBe(`error: --limit "0" is invalid: expected a whole number from 1 to 500`)
      expect(api.requests.length).toBe(before)

      const empty = yield* stubApi(() => ({ status: 200, body: { items: [] } }))
      expect((yield* cli(["connectors", "log", CONFIG_ID, "--store", STORE, "--url", empty.url, "--token", TOKEN])).stdout)
        .toBe("no runs yet")

      const wrongToken = yield* cli(["connectors", "log", CONFIG_ID, "--store", STORE, "--url", api.url, "--token", "wrong-t0ken"])
      expect(wrongToken.exitCode).toBe(1)
      expect(wrongToken.stderr).toMatch(/^error: unauthorized \(HTTP 401\)/)
      expect(wrongToken.stderr).not.toContain("wrong-t0ken")
    }))

  it.effect("every connectors command has --help", () =>
    Effect.gen(function*() {
      for (const sub of ["list", "poll", "log"]) {
        const help = yield* cli(["connectors", sub, "--help"])
        expect(help.exitCode).toBe(0)
        expect(help.stdout).toContain("--store")
      }
      const help = yield* cli(["connectors", "--help"])
      expect(help.stdout).toMatch(/list[\s\S]*poll[\s\S]*log/)
    }))
})
