import bcrypt from "bcrypt"
import { Effect, Layer } from "effect"
import { AppConfig } from "../services/AppConfig.ts"
import { PasswordHasher } from "../services/PasswordHasher.ts"

/** bcrypt (the native binding, work done on libuv's thread pool) at the given cost. */
export const makePasswordHasherBcrypt = (cost: number) =>
  Effect.gen(function*() {
    const decoyHash = yield* Effect.promise(() => bcrypt.hash(`decoy-${crypto.randomUUID()}`, cost))
    // bcrypt runs on libuv's small thread pool, which DNS lookups and file I/O share: a
    // flood of cold validations may use half of it, never all.
    const lanes = yield* Effect.makeSemaphore(2)
    return PasswordHasher.of({
      hash: (secret) => lanes.withPermits(1)(Effect.promise(() => bcrypt.hash(secret, cost))),
      verify: (secret, hash) =>
        lanes.withPermits(1)(Effect.promise(() => bcrypt.compare(secret, hash).catch(() => false))),
      decoyHash
    })
  })

export const PasswordHasherBcrypt = (cost: number) => Layer.effect(PasswordHasher, makePasswordHasherBcrypt(cost))

/** At the configured cost (CREDENTIAL_BCRYPT_COST). */
export const PasswordHasherFromConfig = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => PasswordHasherBcrypt(config.credentials.bcryptCost))
)
