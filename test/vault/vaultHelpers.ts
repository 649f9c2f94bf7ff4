/**
 * What the Vault tests share: the Vault VaultLive is tested against (a real one
 * when VAULT_ADDR and VAULT_TOKEN are set, else the KV v2 double), fresh paths
 * and secrets, and the check that an error shows no secret.
 */
import { expect } from "@effect/vitest"
import { Cause, Context, Effect, Layer, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { inspect } from "node:util"
import { makeVaultLive } from "../../src/layers/VaultLive.ts"
import { type SecretData, Vault } from "../../src/services/Vault.ts"
import { startVaultKvDouble, type VaultKvDouble } from "../support/vaultKvDouble.ts"

// With VAULT_ADDR and VAULT_TOKEN set, VaultLive is exercised against that Vault
// instead of the double, under a prefix of its own so runs never meet.
export const real = process.env["VAULT_ADDR"] && process.env["VAULT_TOKEN"]
  ? {
    address: process.env["VAULT_ADDR"],
    token: process.env["VAULT_TOKEN"],
    mount: process.env["VAULT_KV_MOUNT"] ?? "ss3/kv"
  }
  : undefined
const runPrefix = real ? `integration-service-test-${randomUUID()}/` : ""
export const newPath = () => `${runPrefix}integration-service/webhook/${randomUUID()}`
export const secretValue = () => `whsec_${randomUUID().replaceAll("-", "")}`

export interface Target {
  readonly address: string
  readonly token: string
  readonly mount: string
  readonly double: Option.Option<VaultKvDouble>
}
export class VaultTarget extends Context.Tag("test/VaultTarget")<VaultTarget, Target>() {}

export const TargetLayer = real
  ? Layer.succeed(VaultTarget, { ...real, double: Option.none() })
  : Layer.scoped(
    VaultTarget,
    Effect.map(startVaultKvDouble(), (double) => ({ ...double, double: Option.some(double) }))
  )

export const liveFor = (target: Target, overrides: { token?: string; mount?: string } = {}) =>
  makeVaultLive({
    endpoint: target.address,
    token: Redacted.make(overrides.token ?? target.token),
    mount: overrides.mount ?? target.mount
  })

export const LiveOverTarget = Layer.effect(Vault, Effect.flatMap(VaultTarget, (target) => liveFor(target))).pipe(
  Layer.provideMerge(TargetLayer)
)

/** A fresh path, deleted again when the test ends. */
export const freshPath = Effect.gen(function*() {
  const vault = yield* Vault
  const path = newPath()
  yield* Effect.addFinalizer(() => vault.delete(path).pipe(Effect.ignore))
  return path
})

export const secretOf = (values: Record<string, string>): SecretData =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Redacted.make(value)]))

export const reveal = (data: SecretData) =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Redacted.value(value)]))

/** Every way an error tends to get printed. */
export const expectNoLeak = (error: unknown, secrets: ReadonlyArray<string>) => {
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
