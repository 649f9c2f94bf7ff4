/**
 * The store admin's and on-call's commands against the real service (real
 * PostgreSQL, real Kafka): subscriptions create/show/update/rotate/delete,
 * connectors types/create/update/credentials/delete, status; each with --json;
 * errors naming the flag or field.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { connectorsCommand } from "../src/cli/commands/connectors.ts"
import { statusCommand } from "../src/cli/commands/status.ts"
import { subscriptionsCommand } from "../src/cli/commands/subscriptions.ts"
import { adminToken, baseUrl, TestApp } from "./support/app.ts"
import { makeCli } from "./support/cliHarness.ts"

const prefix = `cli-live-${randomUUID().slice(0, 8)}`
const run = makeCli([subscriptionsCommand, connectorsCommand, statusCommand])

/** The service runs in this process too: its log lines are left out. */
const cli = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const url = yield* baseUrl
    const result = yield* run([...args, "--url", url, "--token", adminToken])
    const own = (text: string) => text.split("\n").filter((line) => !line.startsWith("timestamp=")).join("\n")
    return { ...result, stdout: own(result.stdout), stderr: own(result.stderr) }
  })

const newStore = () => `store-${randomUUID().slice(0, 8)}`

describe("admin CLI against the real service", () => {
  layer(
    TestApp({
      eventTopics: new RegExp(`^${prefix}\\.`),
      groupId: prefix,
      withoutWorkers: true,
      allowInsecureTargets: false,
      dns: { "hooks.example.com": ["93.184.216.34"] }
    }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("subscriptions create, show, update, rotate, delete", () =>
      Effect.gen(function*() {
        const store = newStore()
        const created = yield* cli([
          "subscriptions", "create", "--store", store, "--name", "erp", "--target-url", "https://hooks.example.com/in",
          "--event", "order.placed", "--event", "order.paid", "--json"
        ])
        expect(created.exitCode, created.stderr).toBe(0)
        const subscription = JSON.parse(created.stdout) as { id: string; signingSecret: string; events: Array<string> }
        expect(subscription.events).toEqual(["order.placed", "order.paid"])
        expect(subscription.signingSecret.length).toBeGreaterThan(20)

        const shown = yield* cli(["subscriptions", "show", subscription.id, "--store", store])
        expect(shown.exitCode, shown.stderr).toBe(0)
        expect(shown.stdout).toMatch(/^target url\s+https:\/\/hooks\.example\.com\/in$/m)
        expect(shown.stdout).not.toContain(subscription.signingSecret)

        const paused = yield* cli(["subscriptions", "update", subscription.id, "--store", store, "--active", "no", "--json"])
        expect(paused.exitCode, paused.stderr).toBe(0)
        expect(JSON.parse(paused.stdout)).toMatchObject({ isActive: false, name: "erp" })
        const nothing = yield* cli(["subscriptions", "update", subscription.id, "--store", store])
        expect(nothing.exitCode).toBe(1)
        expect(nothing.stderr).toBe("error: nothing to change: give --name, --target-url, --event or --active")

        const rotated = yield* cli(["subscriptions", "rotate", subscription.id, "--store", store])
        expect(rotated.exitCode, rotated.stderr).toBe(0)
        const secret = /^signing secret\s+(\S+)$/m.exec(rotated.stdout)?.[1]
        expect(secret).toBeDefined()
        expect(secret).not.toBe(subscription.signingSecret)

        const deleted = yield* cli(["subscriptions", "delete", subscription.id, "--store", store])
        expect(deleted.stdout).toBe(`deleted subscription ${subscription.id}`)
        const gone = yield* cli(["subscriptions", "show", subscription.id, "--store", store])
        expect(gone.exitCode).toBe(1)
        expect(gone.stderr).toMatch(/^error: not_found \(HTTP 404\)/)
      }))

    it.effect("subscriptions create: each bad input names its flag or field, nothing is created", () =>
      Effect.gen(function*() {
        const store = newStore()
        const noEvent = yield* cli(["subscriptions", "create", "--store", store, "--name", "x", "--target-url", "https://hooks.example.com/"])
        expect(noEvent.stderr).toBe("error: give at least one --event (an event type like order.placed, or *)")
        const badEvent = yield* cli([
          "subscriptions", "create", "--store", store, "--name", "x", "--target-url", "https://hooks.example.com/", "--event", "no spaces"
        ])
        expect(badEvent.stderr).toMatch(/^error: --event "no spaces" is invalid/)
        const badStore = yield* cli(["subscriptions", "list", "--store", "a;b"])
        expect(badStore.stderr).toMatch(/^error: --store "a;b" is invalid/)
        const insecure = yield* cli([
          "subscriptions", "create", "--store", store, "--name", "x", "--target-url", "http://hooks.example.com/", "--event", "*"
        ])
        expect(insecure.exitCode).toBe(1)
        expect(insecure.stderr).toMatch(/^error: invalid_request \(HTTP 400\): .*targetUrl/)
        expect((yield* cli(["subscriptions", "list", "--store", store])).stdout).toBe("no subscriptions")
      }))

    it.effect("connectors types, create, update, credentials, delete", () =>
      Effect.gen(function*() {
        const store = newStore()
        const types = yield* cli(["connectors", "types", "--json"])
        expect(types.exitCode, types.stderr).toBe(0)
        const catalog = JSON.parse(types.stdout) as Array<{ connectorType: string; settings: Array<{ name: string }> }>
        expect(catalog.map((c) => c.connectorType)).toEqual(["amazon", "ebay", "google-shopping"])
        expect(catalog[0]!.settings.map((s) => s.name)).toContain("sellerId")
        const text = yield* cli(["connectors", "types", "--type", "amazon"])
        expect(text.stdout).toMatch(/^sellerId\s+string\s+yes/m)
        expect(text.stdout).toMatch(/^--refresh-token\s+refreshToken\s+refresh-token/m)
        expect((yield* cli(["connectors", "types", "--type", "etsy"])).stderr).toBe(
          `error: --type "etsy" is invalid: expected one of amazon, ebay, google-shopping`
        )

        const badSetting = yield* cli([
          "connectors", "create", "--store", store, "--type", "amazon", "--name", "A", "--setting", "sellerId=A1",
          "--setting", "baseUrl=https://sp.example.com", "--setting", "tokenUrl=https://lwa.example.com/t",
          "--setting", "pollIntervalSeconds=5"
        ])
        expect(badSetting.exitCode).toBe(1)
        expect(badSetting.stderr).toMatch(/pollIntervalSeconds/)
        expect((yield* cli(["connectors", "create", "--store", store, "--type", "amazon", "--name", "A", "--setting", "oops"])).stderr)
          .toBe(`error: --setting "oops" is invalid: expected key=value, e.g. sellerId=A1B2C3`)

        const created = yield* cli([
          "connectors", "create", "--store", store, "--type", "amazon", "--name", "Amazon US", "--setting", "sellerId=A1",
          "--setting", "baseUrl=https://sp.example.com", "--setting", "tokenUrl=https://lwa.example.com/t",
          "--setting", "pollIntervalSeconds=600", "--event", "product.updated", "--active", "no", "--json"
        ])
        expect(created.exitCode, created.stderr).toBe(0)
        const config = JSON.parse(created.stdout) as { id: string; settings: Record<string, unknown>; hasCredentials: boolean }
        expect(config.settings).toMatchObject({ sellerId: "A1", pollIntervalSeconds: 600 })
        expect(config.hasCredentials).toBe(false)

        const renamed = yield* cli(["connectors", "update", config.id, "--store", store, "--name", "Amazon EU", "--json"])
        expect(JSON.parse(renamed.stdout)).toMatchObject({ displayName: "Amazon EU", isActive: false })

        const half = yield* cli(["connectors", "credentials", config.id, "--store", store, "--api-key", "k"])
        expect(half.stderr).toBe("error: --api-secret required")
        const stored = yield* cli([
          "connectors", "credentials", config.id, "--store", store, "--api-key", "client-id", "--api-secret", "s3cr3t-value",
          "--refresh-token", "Atzr|token"
        ])
        expect(stored.exitCode, stored.stderr).toBe(0)
        expect(stored.stdout).not.toContain("s3cr3t-value")
        const listed = yield* cli(["connectors", "list", "--store", store, "--json"])
        expect(JSON.parse(listed.stdout).items[0]).toMatchObject({ id: config.id, hasCredentials: true })

        const deleted = yield* cli(["connectors", "delete", config.id, "--store", store, "--json"])
        expect(JSON.parse(deleted.stdout)).toEqual({ id: config.id, deleted: true })
        expect((yield* cli(["connectors", "list", "--store", store])).stdout).toBe("no connectors")
      }))

    it.effect("status: reachable, database, Kafka, Vault, backlog, dead letters", () =>
      Effect.gen(function*() {
        const text = yield* cli(["status"])
        expect(text.exitCode, text.stderr).toBe(0)
        expect(text.stdout).toMatch(/^service\s+http:\/\/\S+\s+reachable \(\d+ ms\), live mode$/m)
        expect(text.stdout).toMatch(/^database\s+ok$/m)
        expect(text.stdout).toMatch(/^kafka\s+ok$/m)
        expect(text.stdout).toMatch(/^secret store\s+Vault ok$/m)
        expect(text.stdout).toMatch(/^backlog\s+webhooks \d+ pending, \d+ failed; connectors \d+ pending, \d+ failed$/m)
        expect(text.stdout).toMatch(/^dead letters\s+\d+ dead letters? in the last 24 h/m)
        // Piped (as here): no colour codes.
        expect(text.stdout).not.toContain("\u001b[")
        const json = yield* cli(["status", "--json"])
        expect(JSON.parse(json.stdout)).toMatchObject({ reachable: true, mode: "live", checks: { database: "ok", kafka: "ok" } })

        const down = yield* run(["status", "--url", "http://127.0.0.1:9", "--token", adminToken])
        expect(down.exitCode).toBe(1)
        expect(down.stdout).toMatch(/^service\s+http:\/\/127\.0\.0\.1:9\s+unreachable: cannot reach integration-service at /)
      }))
  })
})
