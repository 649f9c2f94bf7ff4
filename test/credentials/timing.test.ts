/**
 * An unknown client_id must cost what a wrong secret costs (a decoy bcrypt
 * comparison), or response times tell an attacker which client_ids exist.
 * At the production default cost (10), so one comparison is tens of
 * milliseconds and clearly stands out from the HTTP and database overhead.
 */
import { describe, expect, layer } from "@effect/vitest"
import bcrypt from "bcrypt"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { newClientId } from "../../src/domain/credentials/keys.ts"
import { TestApp } from "../support/app.ts"
import { basic, issue, newSecret, newStoreId, validate } from "./helpers.ts"

const prefix = `cred-timing-${randomUUID().slice(0, 8)}`
const productionCost = 10
const samples = 20

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Milliseconds one request takes, asserting its status. */
const timed = (headers: Record<string, string>, status: number) =>
  Effect.gen(function*() {
    const started = performance.now()
    const response = yield* validate(headers)
    const elapsed = performance.now() - started
    expect(response.status).toBe(status)
    return elapsed
  })

describe("timing of refusals (bcrypt cost 10)", () => {
  layer(
    TestApp({
      eventTopics: new RegExp(`^${prefix}\\.`),
      groupId: prefix,
      isolatedDatabase: true,
      withoutWorkers: true,
      bcryptCost: productionCost
    }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("an unknown client_id takes about as long as a wrong secret: a decoy bcrypt comparison is made", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const key = yield* issue(storeId, { type: "API_KEY" })
        const client = yield* issue(storeId, { type: "OAUTH_CLIENT" })

        // What one comparison at this cost takes on this machine (in this process), measured among
        // the samples below, so that the load of the moment (other test files) weighs on both alike.
        const hash = yield* Effect.promise(() => bcrypt.hash("calibration", productionCost))
        const compares: Array<number> = []
        const compareOnce = Effect.gen(function*() {
          const started = performance.now()
          yield* Effect.promise(() => bcrypt.compare("wrong", hash))
          compares.push(performance.now() - started)
        })

        // The same key with its last (checksum) character changed.
        const badChecksum = `${key.secret.slice(0, -1)}${key.secret.endsWith("x") ? "y" : "x"}`

        // Interleaved, each presentation new (refusals are never cached anyway).
        const wrongKey: Array<number> = []
        const unknownKey: Array<number> = []
        const wrongClient: Array<number> = []
        const unknownClient: Array<number> = []
        const malformed: Array<number> = []
        for (let i = 0; i < samples; i++) {
          wrongKey.push(yield* timed({ authorization: `Bearer ${newSecret("API_KEY", key.clientId).presented}` }, 401))
          unknownKey.push(yield* timed({ authorization: `Bearer ${newSecret("API_KEY", newClientId("API_KEY")).presented}` }, 401))
          wrongClient.push(yield* timed({ authorization: basic(client.clientId, newSecret("OAUTH_CLIENT", client.clientId).presented) }, 401))
          const stranger = newClientId("OAUTH_CLIENT")
          unknownClient.push(yield* timed({ authorization: basic(stranger, newSecret("OAUTH_CLIENT", stranger).presented) }, 401))
          malformed.push(yield* timed({ authorization: `Bearer ${badChecksum}` }, 400))
          yield* compareOnce
        }
        const compareMs = median(compares)
        const m = {
          compareMs,
          wrongKey: median(wrongKey),
          unknownKey: median(unknownKey),
          wrongClient: median(wrongClient),
          unknownClient: median(unknownClient),
          malformed: median(malformed)
        }
        console.log(`timing medians (ms): ${JSON.stringify(m, (_, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}`)

        // Both refusals include a bcrypt comparison…
        for (const ms of [m.wrongKey, m.unknownKey, m.wrongClient, m.unknownClient]) {
          expect(ms).toBeGreaterThan(compareMs * 0.5)
        }
        // …so they take about the same time.
        expect(m.unknownKey / m.wrongKey).toBeGreaterThan(0.5)
        expect(m.unknownKey / m.wrongKey).toBeLessThan(2)
        expect(m.unknownClient / m.wrongClient).toBeGreaterThan(0.5)
        expect(m.unknownClient / m.wrongClient).toBeLessThan(2)
        // A malformed credential is refused before any lookup or comparison.
        expect(m.malformed).toBeLessThan(compareMs * 0.5)
      }), 120_000)
  })
})
