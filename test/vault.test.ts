import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Cause, ConfigProvider, Context, Effect, Layer, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { inspect } from "node:util"
import { VaultDev } from "../src/layers/VaultDev.ts"
import { makeVaultLive, VaultLive } from "../src/layers/VaultLive.ts"
import { VaultTest } from "../src/layers/VaultTest.ts"
import { type SecretData, Vault, VaultError } from "../src/services/Vault.ts"
import { startVaultKvDouble, type VaultKvDouble } from "./support/vaultKvDouble.ts"

// With VAULT_ADDR and VAULT_TOKEN set, VaultLive is exercised against that Vault
// instead of the double, under a prefix of its own so runs never meet.
const real = process.env["VAULT_ADDR"] && process.env["VAULT_TOKEN"]
  ? {
    address: process.env["VAULT_ADDR"],
    token: process.env["VAULT_TOKEN"],
    mount: process.env["VAULT_KV_MOUNT"] ?? "ss3/kv"
  }
  : undefined
const runPrefix = real ? `integration-service-test-${randomUUID()}/` : ""
const newPath = () => `${runPrefix}integration-service/webhook/${randomUUID()}`
const secretValue = () => `whsec_${randomUUID().replaceAll("-", "")}`

interface Target {
  readonly address: string
  readonly token: string
  readonly mount: string
  readonly double: Option.Option<VaultKvDouble>
}
class VaultTarget extends Context.Tag("test/VaultTarget")<VaultTarget, Target>() {}

const TargetLayer = real
  ? Layer.succeed(VaultTarget, { ...real, double: Option.none() })
  : Layer.scoped(
    VaultTarget,
    Effect.map(startVaultKvDouble(), (double) => ({ ...double, double: Option.some(double) }))
  )

const liveFor = (target: Target, overrides: { token?: string; mount?: string } = {}) =>
  makeVaultLive({
    endpoint: target.address,
    token: Redacted.make(overrides.token ?? target.token),
    mount: overrides.mount ?? target.mount
  })

const LiveOverTarget = Layer.effect(Vault, Effect.flatMap(VaultTarget, (target) => liveFor(target))).pipe(
  Layer.provideMerge(TargetLayer)
)

const DevOverTempDir = Layer.unwrapScoped(
  Effect.map(Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped()), VaultDev)
).pipe(Layer.provide(NodeContext.layer))

/** A fresh path, deleted again when the test ends. */
const freshPath = Effect.gen(function*() {
  const vault = yield* Vault
  const path = newPath()
  yield* Effect.addFinalizer(() => vault.delete(path).pipe(Effect.ignore))
  return path
})

const secretOf = (values: Record<string, string>): SecretData =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Redacted.make(value)]))

const reveal = (data: SecretData) =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Redacted.value(value)]))

/** Every way an error tends to get printed. */
const expectNoLeak = (error: unknown, secrets: ReadonlyArray<string>) => {
  const renderings = [
    String(error),
    JSON.stringify(error),
    error instanceof Error ? error.message : "",
    inspect(error, { depth: 10 }),
    Cause.pretty(Cause.fail(error))
  ]
  for (const text of renderings) {
    for (const secret of secrets) expect(text).not.toContain(secret)
  }
}

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

/** What every implementation promises through the `Vault` interface. */
const contract = (name: string, vaultLayer: Layer.Layer<Vault, unknown>) =>
  layer(vaultLayer, { excludeTestServices: true, timeout: "30 seconds" })(name, (it) => {
    it.scoped("reads back what was written, as Redacted values", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const path = yield* freshPath
        const values = { secret: secretValue(), "odd key.with-dots": "quote \" newline \n ünïcode ✓", empty: "" }
        yield* vault.write(path, secretOf(values))
        const read = yield* vault.read(path).pipe(Effect.map(Option.getOrThrow))
        for (const value of Object.values(read)) {
          expect(Redacted.isRedacted(value)).toBe(true)
          expect(String(value)).toBe("<redacted>")
        }
        expect(reveal(read)).toEqual(values)
        expect(JSON.stringify(read)).not.toContain(values.secret)
        expect(inspect(read)).not.toContain(values.secret)
      }))

    it.scoped("an overwrite replaces the whole secret", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const path = yield* freshPath
        yield* vault.write(path, secretOf({ secret: "first-value", extra: "dropped-later" }))
        yield* vault.write(path, secretOf({ secret: "second-value" }))
        const read = yield* vault.read(path)
        expect(Option.map(read, reveal)).toEqual(Option.some({ secret: "second-value" }))
      }))

    it.scoped("a missing secret reads as None", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        expect(yield* vault.read(newPath())).toEqual(Option.none())
      }))

    it.scoped("delete removes the secret, and deleting a missing one succeeds", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const path = yield* freshPath
        yield* vault.write(path, secretOf({ secret: secretValue() }))
        yield* vault.delete(path)
        expect(yield* vault.read(path)).toEqual(Option.none())
        yield* vault.delete(path)
        yield* vault.delete(newPath())
      }))

    it.scoped("paths with slashes: a secret and one beneath it are independent", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const parent = yield* freshPath
        const child = `${parent}/connector`
        yield* Effect.addFinalizer(() => vault.delete(child).pipe(Effect.ignore))
        yield* vault.write(parent, secretOf({ secret: "parent" }))
        yield* vault.write(child, secretOf({ "api-key": "child-key", "api-secret": "child-secret" }))
        yield* vault.delete(parent)
        expect(yield* vault.read(parent)).toEqual(Option.none())
        expect(Option.map(yield* vault.read(child), reveal)).toEqual(
          Option.some({ "api-key": "child-key", "api-secret": "child-secret" })
        )
      }))

    it.effect("refuses empty, '.' and '..' segments without echoing the secret", () =>
      Effect.gen(function*() {
        const vault = yield* Vault
        const secret = secretValue()
        for (const path of ["", "/leading", "trailing/", "a//b", "a/../b", "..", "./a", "bad\nline"]) {
          const errors = [
            yield* Effect.flip(vault.read(path)),
            yield* Effect.flip(vault.write(path, secretOf({ secret }))),
            yield* Effect.flip(vault.delete(path))
          ]
          for (const error of errors) {
            expect(error).toBeInstanceOf(VaultError)
            expectNoLeak(error, [secret])
          }
        }
      }))
  })

contract("VaultTest", VaultTest)
contract("VaultDev", DevOverTempDir)
contract(real ? "VaultLive (real Vault)" : "VaultLive (KV v2 double)", LiveOverTarget)

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

describe("VaultDev on disk", () => {
  const withDir = <A, E>(f: (dir: string) => Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      return yield* f(`${dir}/.data/secrets`)
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))

  const devVault = (dir: string) => Effect.provide(Vault, VaultDev(dir))

  it.live("one 0600 file per secret, written atomically, kept across restarts", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = "integration-service/webhook/0b7c0a3e-7a51-4f0e-9a4e-2f4d7b1c9d10"
        const secret = secretValue()
        yield* Effect.flatMap(devVault(dir), (vault) => vault.write(path, secretOf({ secret })))

        expect(yield* fs.readDirectory(dir)).toEqual([`${encodeURIComponent(path)}.json`])
        const info = yield* fs.stat(`${dir}/${encodeURIComponent(path)}.json`)
        expect(info.mode & 0o777).toBe(0o600)
        expect((yield* fs.stat(dir)).mode & 0o777).toBe(0o700)

        const reread = yield* Effect.flatMap(devVault(dir), (vault) => vault.read(path))
        expect(Option.map(reread, reveal)).toEqual(Option.some({ secret }))
      })))

  it.live("a corrupt file is a VaultError that does not quote it", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const hidden = secretValue()
        yield* fs.makeDirectory(dir, { recursive: true })
        yield* fs.writeFileString(`${dir}/broken.json`, `{"version": 1, "data": {"secret": "${hidden}"`)
        yield* fs.writeFileString(`${dir}/number.json`, `{"version": 1, "data": {"secret": 12345${hidden.length}}}`)
        const vault = yield* devVault(dir)
        for (const path of ["broken", "number"]) {
          const error = yield* Effect.flip(vault.read(path))
          expect(error.reason).toBe("the stored file is not a valid secret")
          expectNoLeak(error, [hidden])
        }
      })))
})
