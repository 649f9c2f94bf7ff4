/**
 * Real bcrypt behind a gate the test holds: a verification that reaches bcrypt
 * waits there while the gate is held, so a test can run a revoke or rotate
 * while a validation is verifiably in flight, then let it finish.
 */
import { Effect, Layer } from "effect"
import { makePasswordHasherBcrypt } from "../../src/layers/PasswordHasherBcrypt.ts"
import { PasswordHasher } from "../../src/services/PasswordHasher.ts"
import { eventually } from "../support/eventually.ts"

export const makeGate = () => {
  let held: { readonly opened: Promise<void>; readonly open: () => void } | undefined
  let arrived = 0
  return {
    /** From now on, verifications wait at the gate. */
    hold: () => {
      let open: () => void = () => {}
      const opened = new Promise<void>((resolve) => (open = resolve))
      held = { opened, open }
      arrived = 0
    },
    release: () => {
      held?.open()
      held = undefined
    },
    /** Verifications that reached the gate since `hold`. */
    arrived: () => arrived,
    /** Waits until `n` verifications are at the gate. */
    awaitArrivals: (n: number) => eventually(Effect.sync(() => arrived), (count) => count >= n, "10 seconds"),
    pass: Effect.suspend(() => {
      arrived++
      const gate = held
      return gate === undefined ? Effect.void : Effect.promise(() => gate.opened)
    })
  }
}

export type Gate = ReturnType<typeof makeGate>

/** bcrypt at `cost` whose every comparison first passes `gate`. */
export const GatedHasher = (gate: Gate, cost = 4) =>
  Layer.effect(
    PasswordHasher,
    Effect.map(makePasswordHasherBcrypt(cost), (bcrypt) =>
      PasswordHasher.of({
        ...bcrypt,
        verify: (secret, hash) => Effect.zipRight(gate.pass, bcrypt.verify(secret, hash))
      }))
  )
