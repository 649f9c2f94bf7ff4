/**
 * `integration-service credentials issue|list|revoke` against a canned admin API.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { credentialsCommand, shownOnceWarning } from "../src/cli/commands/credentials.ts"
import { makeCli, type Route, stubAdminApi } from "./support/cliHarness.ts"

const TOKEN = "test-admin-token-s3cr3t"
const STORE = "store-1"
const CREDENTIAL_ID = "3f0e7a52-9c1d-4b8e-a6f2-5d4c3b2a1e0f"
const API_KEY = "ss3k_AbCdEfGhIjKlMnOp_0123456789abcdefghijABCDEFGHIJKLqrstuv"

const credential = (overrides: Record<string, unknown> = {}) => ({
  id: CREDENTIAL_ID,
  storeId: STORE,
  name: "ERP sync",
  type: "API_KEY",
  clientId: "ss3k_AbCdEfGhIjKlMnOp",
  scopes: ["orders:read", "catalog:read"],
  isActive: true,
  expiresAt: null,
  lastUsedAt: null,
  createdBy: "admin-token",
  createdAt: "2024-05-01T12:00:00.000Z",
  updatedAt: "2024-05-01T12:00:00.000Z",
  ...overrides
})

const stubApi = (route: Route) => stubAdminApi(TOKEN, route)
const cli = makeCli([credentialsCommand])

describe("credentials commands", () => {
  it.scoped("issue POSTs {name, type, scopes, expiresAt} with X-SS3-Actor and prints the secret once, with a warning", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "POST" && req.url === `/stores/${STORE}/credentials`
          ? { status: 201, body: { ...credential({ expiresAt: "2030-01-01T00:00:00.000Z", createdBy: "ops@example.com" }), secret: API_KEY } }
          : undefined
      )
      const result = yield* cli([
        "credentials", "issue", "--store", STORE, "--name", "ERP sync", "--type", "API_KEY",
        "--scope", "orders:read", "--scope", "catalog:read", "--expires-at", "2030-01-01T00:00:00Z",
        "--actor", "ops@example.com", "--url", api.url, "--token", TOKEN
      ])
      expect(result.stderr).toBe("")
      expect(result.exitCode).toBe(0)
      expect(api.requests).toHaveLength(1)
      const request = api.requests[0]!
      expect(request.headers["x-ss3-actor"]).toBe("ops@example.com")
      expect(JSON.parse(request.body)).toEqual({
        name: "ERP sync",
        type: "API_KEY",
        scopes: ["orders:read", "catalog:read"],
        expiresAt: "2030-01-01T00:00:00.000Z"
      })
      expect(result.stdout).toMatch(new RegExp(`^credential\\s+${CREDENTIAL_ID}$`, "m"))
      expect(result.stdout).toMatch(/^scopes\s+orders:read catalog:read$/m)
      expect(result.stdout).toMatch(/^expires\s+2030-01-01T00:00:00Z$/m)
      expect(result.stdout).toMatch(new RegExp(`^api key\\s+${API_KEY}$`, "m"))
      expect(result.stdout.split(API_KEY)).toHaveLength(2) // printed exactly once
      expect(result.stdout).toContain(shownOnceWarning)
      expect(result.stdout).not.toContain(TOKEN)

      // --json: one JSON document on stdout (secret included), the warning on stderr.
      const json = yield* cli([
        "credentials", "issue", "--store", STORE, "--name", "ERP sync", "--type", "API_KEY", "--scope", "orders:read",
        "--json", "--url", api.url, "--token", TOKEN
      ])
      expect(json.exitCode).toBe(0)
      expect(JSON.parse(json.stdout)).toMatchObject({ id: CREDENTIAL_ID, secret: API_KEY, type: "API_KEY" })
      expect(json.stderr).toBe(shownOnceWarning)
      expect(api.requests[1]!.headers["x-ss3-actor"]).toBeUndefined()
      expect(JSON.parse(api.requests[1]!.body)).toEqual({ name: "ERP sync", type: "API_KEY", scopes: ["orders:read"] })
    }))

  it.scoped("issue checks its input before sending anything, and reports the server's 400 in one line", () =>
    Effect.gen(function*() {
      const api = yield* stubApi(() => ({ status: 400, body: { error: "invalid_request", message: "expiresAt: must be in the future" } }))
      const base = ["credentials", "issue", "--store", STORE, "--name", "x", "--url", api.url, "--token", TOKEN]

      const noScope = yield* cli([...base, "--type", "API_KEY"])
      expect(noScope.exitCode).toBe(1)
      expect(noScope.stderr).toMatch(/^error: give at least one --scope \(one of catalog:read, /)

      const badDate = yield* cli([...base, "--type", "OAUTH_CLIENT", "--scope", "orders:read", "--expires-at", "tomorrow"])
      expect(badDate.stderr).toBe(`error: --expires-at "tomorrow" is invalid: expected an ISO-8601 date-time, e.g. 2025-12-31T23:59:59Z`)

      // An unknown scope is @effect/cli's validation error (main.ts turns it into exit status 1).
      const badScope = yield* cli([...base, "--type", "API_KEY", "--scope", "orders:delete"])
      expect(Exit.isFailure(badScope.exit)).toBe(true)
      expect(`${badScope.stdout}${badScope.stderr}`).toMatch(/orders:delete|catalog:read/)
      expect(api.requests).toHaveLength(0)

      const past = yield* cli([...base, "--type", "API_KEY", "--scope", "orders:read", "--expires-at", "2001-01-01T00:00:00Z"])
      expect(past.exitCode).toBe(1)
      expect(past.stderr).toBe("error: invalid_request (HTTP 400): expiresAt: must be in the future")
      expect(api.requests).toHaveLength(1)
    }))

  it.scoped("list prints a table without secrets; --json prints the list", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "GET" && req.url === `/stores/${STORE}/credentials`
          ? {
            status: 200,
            body: {
              items: [
                credential({ lastUsedAt: "2024-05-02T08:30:00.000Z" }),
                credential({
                  id: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                  name: "Marketplace",
                  type: "OAUTH_CLIENT",
                  clientId: "ss3c_QrStUvWxYz012345",
                  scopes: ["inventory:write"],
                  isActive: false,
                  expiresAt: "2030-01-01T00:00:00.000Z"
                })
              ]
            }
          }
          : undefined
      )
      const result = yield* cli(["credentials", "list", "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(result.stderr).toBe("")
      const lines = result.stdout.split("\n")
      expect(lines[0]).toMatch(/^ID\s+NAME\s+TYPE\s+CLIENT ID\s+SCOPES\s+ACTIVE\s+EXPIRES\s+LAST USED\s+CREATED$/)
      expect(lines[1]).toMatch(
        new RegExp(`^${CREDENTIAL_ID}\\s+ERP sync\\s+API_KEY\\s+ss3k_AbCdEfGhIjKlMnOp\\s+orders:read,catalog:read\\s+yes\\s+-\\s+2024-05-02T08:30:00Z\\s+2024-05-01T12:00:00Z$`)
      )
      expect(lines[2]).toMatch(/Marketplace\s+OAUTH_CLIENT\s+ss3c_QrStUvWxYz012345\s+inventory:write\s+no\s+2030-01-01T00:00:00Z\s+-\s+/)
      expect(api.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`)

      const json = yield* cli(["credentials", "list", "--store", STORE, "--json", "--url", api.url, "--token", TOKEN])
      expect(JSON.parse(json.stdout).items).toHaveLength(2)

      const empty = yield* stubApi(() => ({ status: 200, body: { items: [] } }))
      expect((yield* cli(["credentials", "list", "--store", STORE, "--url", empty.url, "--token", TOKEN])).stdout).toBe("no credentials")
    }))

  it.scoped("revoke DELETEs the credential of that store; a wrong id is refused before sending, a 404 is one line", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "DELETE" && req.url === `/stores/${STORE}/credentials/${CREDENTIAL_ID}`
          ? { status: 200, body: credential({ isActive: false }) }
          : req.method === "DELETE"
          ? { status: 404, body: { error: "not_found", message: "credential not found" } }
          : undefined
      )
      const result = yield* cli(["credentials", "revoke", CREDENTIAL_ID, "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(result.stderr).toBe("")
      expect(result.stdout).toBe(`revoked credential ${CREDENTIAL_ID} (ERP sync, client id ss3k_AbCdEfGhIjKlMnOp): it stops validating at once`)
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`DELETE /stores/${STORE}/credentials/${CREDENTIAL_ID}`])

      const badId = yield* cli(["credentials", "revoke", "nope", "--store", STORE, "--url", api.url, "--token", TOKEN])
      expect(badId.stderr).toBe(`error: credential id "nope" is invalid: expected a UUID`)
      expect(api.requests).toHaveLength(1)

      const otherStore = yield* cli(["credentials", "revoke", CREDENTIAL_ID, "--store", "store-2", "--url", api.url, "--token", TOKEN])
      expect(otherStore.exitCode).toBe(1)
      expect(otherStore.stderr).toBe("error: not_found (HTTP 404): credential not found")

      const wrongToken = yield* cli(["credentials", "revoke", CREDENTIAL_ID, "--store", STORE, "--url", api.url, "--token", "nope-token"])
      expect(wrongToken.stderr).toMatch(/^error: unauthorized \(HTTP 401\)/)
      expect(wrongToken.stderr).not.toContain("nope-token")
    }))
})
