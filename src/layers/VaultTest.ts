import { Effect, Layer, Option, Ref } from "effect"
import { type SecretData, Vault, type VaultShape } from "../services/Vault.ts"
import { checkSecretPath } from "./VaultDev.ts"

/** An in-memory secret store for tests, with the same path rules as the real ones. */
export const makeVaultTest = (
  initial: Iterable<readonly [string, SecretData]> = []
): Effect.Effect<VaultShape> =>
  Effect.gen(function*() {
    const secrets = yield* Ref.make<ReadonlyMap<string, SecretData>>(new Map(initial))

    const read: VaultShape["read"] = (path) =>
      checkSecretPath("read", path).pipe(
        Effect.zipRight(Ref.get(secrets)),
        Effect.map((map) => Option.fromNullable(map.get(path)))
      )

    const write: VaultShape["write"] = (path, data) =>
      checkSecretPath("write", path).pipe(
        // A copy, so a caller mutating its object afterwards cannot change what was stored.
        Effect.zipRight(Ref.update(secrets, (map) => new Map(map).set(path, { ...data })))
      )

    const remove: VaultShape["delete"] = (path) =>
      checkSecretPath("delete", path).pipe(
        Effect.zipRight(Ref.update(secrets, (map) => {
          const next = new Map(map)
          next.delete(path)
          return next
        }))
      )

    return { read, write, delete: remove }
  })

export const VaultTest: Layer.Layer<Vault> = Layer.effect(Vault, makeVaultTest())
