/**
 * `integration-service credentials issue|list|revoke` against the real service
 * (real PostgreSQL): the key the CLI prints validates, and stops validating
 * once the CLI revoked it.
 */
import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { randomUUID } from "node:crypto"
import { vi } from "vitest"
import { credentialsCommand } from "../../src/cli/commands/credentials.ts"
import { adminToken, baseUrl, TestApp } from "../support/app.ts"
import { newStoreId, validate } from "./helpers.ts"

const prefix = `cred-cli-${randomUUID().slice(0, 8)}`

const runCli = Command.run(
  Command.make("integration-service").pipe(Command.withSubcommands([credentialsCommand])),
  { name: "integration-service", version: "test" }
)

const cli = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const log = vi.spyOn(console, "log").mockImplementation((...a: Array<unknown>) => void out.push(a.join(" ")))
    const error = vi.spyOn(console, "error").mockImplementation((...a: Array<unknown>) => void err.push(a.join(" ")))
    const saved = process.exitCode
    process.exitCode = undefined
    yield* runCli(["node", "integration-service", ...args]).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
      Effect.provide(NodeContext.layer),
      Effect.exit,
      Effect.ensuring(Effect.sync(() => {
        log.mockRestore()
        error.mockRestore()
      }))
    )
    const exitCode = process.exitCode ?? 0
    process.exitCode = saved
    // The service runs in this process too: leave its log lines out.
    const own = (lines: Array<string>) => lines.filter((line) => !line.startsWith("timestamp=")).join("\n")
    return { exitCode, stdout: own(out), stderr: own(err) }
  })

describe("credentials CLI against the real service", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("issue prints a working key once; list shows it without the secret; revoke stops it", () =>
      Effect.gen(function*() {
        const url = yield* baseUrl
        const store = newStoreId()
        const common = ["--store", store, "--url", url, "--token", adminToken]

        const issued = yield* cli([
          "credentials", "issue", "--name", "erp", "--type", "API_KEY", "--scope", "orders:read", "--scope", "webhooks:manage",
          "--actor", "ops@example.com", "--json", ...common
        ])
        expect(issued.exitCode, issued.stderr).toBe(0)
        expect(issued.stderr).toMatch(/shown only now/)
        const credential = JSON.parse(issued.stdout) as { id: string; secret: string; createdBy: string; scopes: Array<string> }
        expect(credential.createdBy).toBe("ops@example.com")
        expect(credential.scopes).toEqual(["orders:read", "webhooks:manage"])
        const valid = yield* validate({ authorization: `Bearer ${credential.secret}` })
        expect(valid.status).toBe(200)
        expect(valid.body).toMatchObject({ credentialId: credential.id, storeId: store })

        const client = yield* cli(["credentials", "issue", "--name", "market", "--type", "OAUTH_CLIENT", "--scope", "catalog:read", ...common])
        expect(client.exitCode, client.stderr).toBe(0)
        expect(client.stdout).toMatch(/^client secret\s+ss3s_[0-9A-Za-z]{38}$/m)
        expect(client.stdout).toMatch(/^client id\s+ss3c_[0-9A-Za-z]{16}$/m)

        const listed = yield* cli(["credentials", "list", ...common])
        expect(listed.exitCode, listed.stderr).toBe(0)
        expect(listed.stdout).toContain(credential.id)
        expect(listed.stdout).toMatch(/OAUTH_CLIENT/)
        expect(listed.stdout).not.toContain(credential.secret.slice(-38))
        // The validation above is recorded as last used (after the next flush): not asserted here.

        const revoked = yield* cli(["credentials", "revoke", credential.id, ...common])
        expect(revoked.exitCode, revoked.stderr).toBe(0)
        expect(revoked.stdout).toMatch(/^revoked credential /)
        expect((yield* validate({ authorization: `Bearer ${credential.secret}` })).status).toBe(401)
        const again = yield* cli(["credentials", "revoke", credential.id, "--store", newStoreId(), "--url", url, "--token", adminToken])
        expect(again.exitCode).toBe(1)
        expect(again.stderr).toBe("error: not_found (HTTP 404): credential not found")
      }))
  })
})
