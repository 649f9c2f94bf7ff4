/**
 * `deliveries tail` (changes only, oldest first, filters passed on, a failed
 * poll said once), finding the dev server through .data/dev-server.json,
 * plurals, help with examples and the whole command in its usage line.
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted, TestClock } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { deliveriesCommand } from "../src/cli/commands/deliveries.ts"
import { plural } from "../src/cli/format.ts"
import { resolveTarget } from "../src/cli/target.ts"
import { makeCli, stubAdminApi } from "./support/cliHarness.ts"

const TOKEN = "test-admin-token-s3cr3t"
const cli = makeCli([deliveriesCommand])

const delivery = (id: string, attemptNumber: number, status: string, updatedAt: string) => ({
  id,
  subscriptionId: "6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42",
  storeId: "store-1",
  eventType: "order.placed",
  eventId: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
  status,
  attemptNumber,
  httpStatus: status === "DELIVERED" ? 200 : 503,
  responseBody: null,
  nextRetryAt: null,
  deliveredAt: null,
  createdAt: "2024-05-01T12:00:00.000Z",
  updatedAt
})
/** Lets I/O (the stub's answers) run: one turn of the event loop, no timer. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Runs a following command under the TestClock: whenever it sleeps between
 * polls, the clock is moved on by that interval, until the command is done.
 */
const following = <A, E>(command: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(command)
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      if ((yield* TestClock.sleeps()).length > 0) yield* TestClock.adjust("1 second")
      else yield* turn
    }
    return yield* Fiber.join(fiber)
  })

const A = "0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11"
const B = "1c8d7f4a-6b54-4d9f-8e6a-4a2d1f3b0c22"

describe("deliveries tail", () => {
  it.scoped("prints each new delivery and each new attempt once, oldest first, with the filters passed on", () =>
    Effect.gen(function*() {
      let poll = 0
      const pages = [
        [delivery(A, 1, "FAILED", "2024-05-01T12:00:01.000Z")],
        // A second attempt of A, and a new delivery B (newest first, as the API answers).
        [delivery(B, 1, "DELIVERED", "2024-05-01T12:00:03.000Z"), delivery(A, 2, "DELIVERED", "2024-05-01T12:00:02.000Z")]
      ]
      const api = yield* stubAdminApi(TOKEN, (req) =>
        req.url.startsWith("/stores/store-1/deliveries?")
          ? { status: 200, body: { items: pages[Math.min(poll++, 1)], nextCursor: null } }
          : undefined)
      const result = yield* following(cli([
        "deliveries", "tail", "--store", "store-1", "--event-type", "order.placed", "--interval", "1", "--count", "2",
        "--url", api.url, "--token", TOKEN
      ]))
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.stderr).toMatch(/^following deliveries of store store-1 every 1s/)
      const lines = result.stdout.split("\n")
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatch(new RegExp(`^2024-05-01T12:00:02Z  ${A}  DELIVERED  order\\.placed  attempt 2  HTTP 200$`))
      expect(lines[1]).toContain(`${B}  DELIVERED  order.placed  attempt 1`)
      expect(api.requests[0]!.url).toContain("eventType=order.placed")
      expect(api.requests[0]!.url).toContain("limit=200")
    }))

  it.scoped("--json prints one JSON object a line; bad flags are named before anything is sent", () =>
    Effect.gen(function*() {
      let poll = 0
      const api = yield* stubAdminApi(TOKEN, () => ({
        status: 200,
        body: { items: poll++ === 0 ? [] : [delivery(A, 1, "DEAD_LETTERED", "2024-05-01T12:00:09.000Z")], nextCursor: null }
      }))
      const json = yield* following(
        cli(["deliveries", "tail", "--store", "store-1", "--json", "--interval", "1", "--count", "1", "--url", api.url, "--token", TOKEN])
      )
      expect(JSON.parse(json.stdout)).toMatchObject({ id: A, status: "DEAD_LETTERED" })
      const before = api.requests.length
      for (const [flag, value, expected] of [
        ["--interval", "0", "expected a whole number from 1 to 60"],
        ["--count", "lots", "expected a whole number from 1 to 100000"],
        ["--subscription", "nope", "expected a subscription id (UUID)"]
      ] as const) {
        const bad = yield* cli(["deliveries", "tail", "--store", "store-1", flag, value, "--url", api.url, "--token", TOKEN])
        expect(bad.exitCode).toBe(1)
        expect(bad.stderr).toBe(`error: ${flag} "${value}" is invalid: ${expected}`)
      }
      expect(api.requests.length).toBe(before)
    }))
})

describe("finding the service", () => {
  it.effect("a running dev server's dev-server.json gives the URL and token; a dead one's is ignored; --url wins", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "is-target-"))
      try {
        const file = (pid: number) =>
          writeFileSync(join(dir, "dev-server.json"), JSON.stringify({ url: "http://localhost:28080", adminToken: "dev_admin_x", pid }))
        file(process.pid)
        const found = yield* resolveTarget({ url: Option.none(), token: Option.none() }, dir)
        expect(found.baseUrl).toBe("http://localhost:28080")
        expect(Redacted.value(found.token)).toBe("dev_admin_x")
        const explicit = yield* resolveTarget({ url: Option.some("http://other:1/"), token: Option.some(Redacted.make("t")) }, dir)
        expect(explicit.baseUrl).toBe("http://other:1")
        expect(Redacted.value(explicit.token)).toBe("t")
        // A pid that cannot be running (a killed dev server's file).
        file(2 ** 22 + 12345)
        const stale = yield* Effect.flip(resolveTarget({ url: Option.none(), token: Option.none() }, dir))
        expect(stale.message).toMatch(/no admin token: pass --token or set ADMIN_TOKEN/)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("output", () => {
  it("says 1 delivery, 2 deliveries", () => {
    expect(plural(1, "delivery", "deliveries")).toBe("1 delivery")
    expect(plural(2, "delivery", "deliveries")).toBe("2 deliveries")
    expect(plural(0, "run")).toBe("0 runs")
  })

  it.scoped("bulk retry of one delivery says so in the singular", () =>
    Effect.gen(function*() {
      const api = yield* stubAdminApi(TOKEN, () => ({ status: 202, body: { retried: 1 } }))
      const result = yield* cli(["deliveries", "retry", "--store", "store-1", "--url", api.url, "--token", TOKEN])
      expect(result.stdout).toBe("retried 1 delivery")
    }))

  it("help, run as the installed command, has examples, the whole command in USAGE and no colour when piped", () => {
    const help = spawnSync(process.execPath, ["bin/integration-service.mjs", "deliveries", "tail", "--help"], {
      encoding: "utf8",
      env: { ...process.env, FORCE_COLOR: "1" }
    })
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^\$ integration-service deliveries tail /m)
    expect(help.stdout).toContain("EXAMPLES")
    expect(help.stdout).toContain("integration-service deliveries tail --store store-1 --status DEAD_LETTERED")
    expect(help.stdout).not.toContain("\u001b[")
  }, 60_000)
})
