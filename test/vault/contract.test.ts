/** The Vault contract, run on every implementation (VaultTest, VaultDev, VaultLive), and what VaultDev keeps on disk. */
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { inspect } from "node:util"
import { VaultDev } from "../../src/layers/VaultDev.ts"
import { VaultTest } from "../../src/layers/VaultTest.ts"
import { Vault, VaultError } from "../../src/services/Vault.ts"
import { expectNoLeak, freshPath, LiveOverTarget, newPath, real, reveal, secretOf, secretValue } from "./vaultHelpers.ts"

const DevOverTempDir = Layer.unwrapScoped(
  Effect.map(Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped()), VaultDev)
).pipe(Layer.provide(NodeContext.layer))

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
