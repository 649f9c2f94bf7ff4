/**
 * `integration-service deliveries list --since/--until` and `deliveries retry
 * --dry-run` against a canned admin API: the same filters the ops console uses.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { deliveriesCommand } from "../src/cli/commands/deliveries.ts"
import { makeCli, type Route, stubAdminApi } from "./support/cliHarness.ts"

const TOKEN = "test-admin-token-s3cr3t"
const STORE = "store-1"

const stubApi = (route: Route) => stubAdminApi(TOKEN, route)
const cli = makeCli([deliveriesCommand])

describe("deliveries: time filters and the dry run", () => {
  it.scoped("list --since --until sends them as ISO-8601 instants; a bad one is refused before any request", () =>
    Effect.gen(function*() {
      const api = yield* stubApi(() => ({ status: 200, body: { items: [], nextCursor: null } }))
      const result = yield* cli([
        "deliveries", "list", "--store", STORE, "--since", "2024-05-01T00:00:00Z", "--until", "2024-05-02T00:00:00+02:00",
        "--url", api.url, "--token", TOKEN
      ])
      expect(result.stderr).toBe("")
      expect(result.stdout).toBe("no deliveries")
      const url = new URL(api.requests[0]!.url, api.url)
      expect(Object.fromEntries(url.searchParams)).toEqual({ since: "2024-05-01T00:00:00.000Z", until: "2024-05-01T22:00:00.000Z" })

      const bad = yield* cli(["deliveries", "list", "--store", STORE, "--until", "tomorrow", "--url", api.url, "--token", TOKEN])
      expect(bad.exitCode).toBe(1)
      expect(bad.stderr).toContain("--until")
      expect(api.requests).toHaveLength(1)
    }))

  it.scoped("retry --dry-run asks for the count only and prints it; with an id it is refused", () =>
    Effect.gen(function*() {
      const api = yield* stubApi((req) =>
        req.method === "POST" && req.url === `/stores/${STORE}/deliveries/retry`
          ? { status: 202, body: { retried: 0, matching: 7 } }
          : undefined
      )
      const result = yield* cli(["deliveries", "retry", "--store", STORE, "--dry-run", "--url", api.url, "--token", TOKEN])
      expect(result.stderr).toBe("")
      expect(result.stdout).toBe("7 deliveries match (dry run: none re-triggered)")
      expect(JSON.parse(api.requests[0]!.body)).toEqual({ status: "DEAD_LETTERED", dryRun: true })

      const json = yield* cli(["deliveries", "retry", "--store", STORE, "--dry-run", "--json", "--url", api.url, "--token", TOKEN])
      expect(JSON.parse(json.stdout)).toEqual({ matching: 7 })

      const mixed = yield* cli([
        "deliveries", "retry", "0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11", "--store", STORE, "--dry-run", "--url", api.url, "--token", TOKEN
      ])
      expect(mixed.exitCode).toBe(1)
      expect(mixed.stderr).toContain("--dry-run")
      expect(api.requests).toHaveLength(2)
    }))
})
