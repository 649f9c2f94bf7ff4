/** VaultLive beyond the contract (KV v2 versions, soft deletes, auth, retries, its configuration), and the KV v2 double it is tested against. */
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { makeVaultLive, VaultLive } from "../../src/layers/VaultLive.ts"
import { Vault, VaultError } from "../../src/services/Vault.ts"
import { startVaultKvDouble } from "../support/vaultKvDouble.ts"
import {
  expectNoLeak,
  freshPath,
  liveFor,
  LiveOverTarget,
  newPath,
  real,
  reveal,
  secretOf,
  secretValue,
  type Target,
  TargetLayer,
  VaultTarget
} from "./vaultHelpers.ts"

const rawVault = (target: Target, method: string, route: string, body?: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${target.address}/v1/${route}`, {
      method,
      headers: { "X-Vault-Token": target.token, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, json: text === "" ? undefined : JSON.parse(text) as any }
  })

layer(LiveOverTarget, { excludeTestServices: true, timeout: "30 seconds" })("VaultLive specifics", (it) => {
  it.scoped("every write is a new KV v2 version; delete destroys them all", () =>
    Effect.gen(function*() {
      const vault = yield* Vault
      const target = yield* VaultTarget
      const path = yield* freshPath
      yield* vault.write(path, secretOf({ secret: "v1" }))
      yield* vault.write(path, secretOf({ secret: "v2" }))
      const latest = yield* rawVault(target, "GET", `${target.mount}/data/${path}`)
      expect(latest.status).toBe(200)
      expect(latest.json.data.metadata.version).toBe(2)
      expect(latest.json.data.metadata.created_time).toMatch(/^\d{4}-\d\d-\d\dT/)
      expect(latest.json.data.data).toEqual({ secret: "v2" })
      yield* vault.delete(path)
      const metadata = yield* rawVault(target, "GET", `${target.mount}/metadata/${path}`)
      expect(metadata.status).toBe(404)
    }))

  it.scoped("a soft-deleted latest version reads as None", () =>
    Effect.gen(function*() {
      const vault = yield* Vault
      const target = yield* VaultTarget
      const path = yield* freshPath
      yield* vault.write(path, secretOf({ secret: "v1" }))
      yield* vault.write(path, secretOf({ secret: "v2" }))
      const deleted = yield* rawVault(target, "DELETE", `${target.mount}/data/${path}`)
      expect(deleted.status).toBe(204)
      expect(yield* vault.read(path)).toEqual(Option.none())
      yield* vault.write(path, secretOf({ secret: "v3" }))
      expect(Option.map(yield* vault.read(path), reveal)).toEqual(Option.some({ secret: "v3" }))
    }))

  it.scoped("a wrong token fails with a VaultError naming neither the token nor the secret", () =>
    Effect.gen(function*() {
      const target = yield* VaultTarget
      const wrongToken = `hvs.wrong${randomUUID().replaceAll("-", "")}`
      const vault = yield* liveFor(target, { token: wrongToken })
      const path = newPath()
      const secret = secretValue()
      const errors = [
        yield* Effect.flip(vault.write(path, secretOf({ secret }))),
        yield* Effect.flip(vault.read(path)),
        yield* Effect.flip(vault.delete(path))
      ]
      for (const error of errors) {
        expect(error).toBeInstanceOf(VaultError)
        expect(error.reason).toContain("403")
        expect(error.reason).toContain("permission denied")
        expect(error.path).toBe(path)
        expectNoLeak(error, [wrongToken, target.token, secret])
      }
    }))

  it.scoped("a value that is not a string is an error that does not quote it", () =>
    Effect.gen(function*() {
      const vault = yield* Vault
      const target = yield* VaultTarget
      const path = yield* freshPath
      const hidden = secretValue()
      const written = yield* rawVault(target, "POST", `${target.mount}/data/${path}`, {
        data: { secret: { nested: hidden }, fine: "ok" }
      })
      expect(written.status).toBe(200)
      const error = yield* Effect.flip(vault.read(path))
      expect(error.reason).toContain("data.data.secret")
      expectNoLeak(error, [hidden, target.token])
    }))

  it.scoped("a wrong mount is an error, not a missing secret", () =>
    Effect.gen(function*() {
      const target = yield* VaultTarget
      const vault = yield* liveFor(target, { mount: `no-such-mount-${randomUUID()}` })
      const error = yield* Effect.flip(vault.read(newPath()))
      expect(error).toBeInstanceOf(VaultError)
      expect(error.reason).toMatch(/HTTP (403|404)/)
    }))

  it.scoped.skipIf(real)("retries 5xx and 429, then succeeds", () =>
    Effect.gen(function*() {
      const vault = yield* Vault
      const double = Option.getOrThrow((yield* VaultTarget).double)
      const path = yield* freshPath
      yield* vault.write(path, secretOf({ secret: "after-retries" }))
      const before = (yield* double.requests).length
      yield* double.failNext(503, 429, 502)
      const read = yield* vault.read(path)
      expect(Option.map(read, reveal)).toEqual(Option.some({ secret: "after-retries" }))
      expect((yield* double.requests).length - before).toBe(4)
    }))

  it.scoped.skipIf(real)("gives up after a few retries, and never retries a 4xx", () =>
    Effect.gen(function*() {
      const vault = yield* Vault
      const double = Option.getOrThrow((yield* VaultTarget).double)
      const path = newPath()
      let before = (yield* double.requests).length
      yield* double.failNext(503, 503, 503, 503)
      const exhausted = yield* Effect.flip(vault.read(path))
      expect(exhausted.reason).toBe("HTTP 503: Vault is sealed")
      expect((yield* double.requests).length - before).toBe(4)

      before = (yield* double.requests).length
      yield* double.failNext(400)
      const bad = yield* Effect.flip(vault.read(path))
      expect(bad.reason).toBe("HTTP 400: injected failure 400")
      expect((yield* double.requests).length - before).toBe(1)
    }), 20_000)

  it.effect.skipIf(real)("an unreachable Vault is a VaultError after retries, without the token", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.scoped(startVaultKvDouble())
      const vault = yield* makeVaultLive({ endpoint: closed.address, token: Redacted.make(closed.token), mount: "ss3/kv" })
      const secret = secretValue()
      const error = yield* Effect.flip(vault.write(newPath(), secretOf({ secret })))
      expect(error.reason).toBe("cannot reach Vault (ECONNREFUSED)")
      expectNoLeak(error, [closed.token, secret])
    }), 20_000)

  it.effect("the VaultLive layer reads VAULT_ADDR, VAULT_TOKEN and VAULT_KV_MOUNT", () =>
    Effect.gen(function*() {
      const target = yield* VaultTarget
      const path = newPath()
      const provider = (entries: ReadonlyArray<[string, string]>) =>
        ConfigProvider.fromMap(new Map(entries))
      const roundTrip = Effect.gen(function*() {
        const vault = yield* Vault
        yield* vault.write(path, secretOf({ secret: "from-config" }))
        const read = yield* vault.read(path)
        yield* vault.delete(path)
        return Option.map(read, reveal)
      }).pipe(Effect.provide(VaultLive))
      const env: Array<[string, string]> = [["VAULT_ADDR", target.address], ["VAULT_TOKEN", target.token]]
      const withMount = target.mount === "ss3/kv" ? env : [...env, ["VAULT_KV_MOUNT", target.mount] as [string, string]]
      expect(yield* Effect.withConfigProvider(roundTrip, provider(withMount))).toEqual(
        Option.some({ secret: "from-config" })
      )
      const missing = yield* Effect.flip(Effect.withConfigProvider(roundTrip, provider([["VAULT_ADDR", target.address]])))
      expect(String(missing)).toContain("VAULT_TOKEN")
    }))
})

layer(TargetLayer, { excludeTestServices: true })("the KV v2 double", (it) => {
  const doubleOnly = it.effect.skipIf(real)

  doubleOnly("answers like Vault: auth, bad bodies, list, health, unknown routes", () =>
    Effect.gen(function*() {
      const target = yield* VaultTarget
      const { mount } = target

      const health = yield* Effect.promise(() => fetch(`${target.address}/v1/sys/health`))
      expect(health.status).toBe(200)
      expect(yield* Effect.promise(() => health.json())).toMatchObject({ initialized: true, sealed: false })

      const anonymous = yield* Effect.promise(() => fetch(`${target.address}/v1/${mount}/data/x`))
      expect(anonymous.status).toBe(403)
      expect(yield* Effect.promise(() => anonymous.json())).toEqual({ errors: ["permission denied"] })

      expect(yield* rawVault(target, "POST", `${mount}/data/x`, "{not json")).toMatchObject({ status: 400 })
      expect(yield* rawVault(target, "POST", `${mount}/data/x`, { nodata: 1 })).toEqual({
        status: 400,
        json: { errors: ["no data provided"] }
      })
      expect(yield* rawVault(target, "GET", `${mount}/data/never-written`)).toEqual({
        status: 404,
        json: { errors: [] }
      })
      const unknown = yield* rawVault(target, "GET", `elsewhere/data/x`)
      expect(unknown.status).toBe(404)
      expect(unknown.json.errors).toHaveLength(1)

      const first = yield* rawVault(target, "PUT", `${mount}/data/tree/a/b`, { data: { k: "1" } })
      expect(first.json.data).toMatchObject({ version: 1, deletion_time: "", destroyed: false })
      const cas = yield* rawVault(target, "POST", `${mount}/data/tree/a/b`, { options: { cas: 0 }, data: { k: "2" } })
      expect(cas.status).toBe(400)
      yield* rawVault(target, "POST", `${mount}/data/tree/c`, { data: { k: "3" } })
      const listed = yield* rawVault(target, "GET", `${mount}/metadata/tree?list=true`)
      expect(listed.json.data.keys).toEqual(["a/", "c"])

      yield* rawVault(target, "DELETE", `${mount}/data/tree/c`)
      const softDeleted = yield* rawVault(target, "GET", `${mount}/data/tree/c`)
      expect(softDeleted.status).toBe(404)
      expect(softDeleted.json.data.data).toBeNull()
      expect(softDeleted.json.data.metadata.deletion_time).not.toBe("")
      const metadata = yield* rawVault(target, "GET", `${mount}/metadata/tree/c`)
      expect(metadata.json.data).toMatchObject({ current_version: 1 })
    }))
})
