/**
 * Floods cannot starve the honest, through the real HTTP server on real
 * PostgreSQL with bcrypt at the production cost (10): forged well-formed keys
 * (the checksum is public) never queue for bcrypt ahead of real ones, an
 * unknown client_id is not looked up twice within seconds, and a flood of
 * wrong secrets for one known client_id is shed with 503 + Retry-After while
 * other credentials are still served. (How long things take is measured by
 * `npm run bench:validate`, not asserted here.)
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import bcrypt from "bcrypt"
import { Effect, Metric } from "effect"
import { randomUUID } from "node:crypto"
import { newClientId } from "../../src/domain/credentials/keys.ts"
import { comparisons, comparisonsShed, decoysWaited } from "../../src/programs/credentials/ComparisonQueue.ts"
import { TestApp } from "../support/app.ts"
import { basic, issue, newSecret, newStoreId, presentHeaders, validate } from "./helpers.ts"

const prefix = `cred-flood-${randomUUID().slice(0, 8)}`
const count = (metric: Metric.Metric.Counter<number>) => Effect.map(Metric.value(metric), (state) => state.count)
const realComparisons = count(Metric.tagged(comparisons, "kind", "real"))
const decoyWaits = Effect.zipWith(
  count(Metric.tagged(decoysWaited, "kind", "busy")),
  count(Metric.tagged(decoysWaited, "kind", "flood")),
  (busy, flood) => busy + flood
)

const forgedKey = () => newSecret("API_KEY", newClientId("API_KEY")).presented

describe("floods (bcrypt cost 10)", () => {
  layer(
    TestApp({
      eventTopics: new RegExp(`^${prefix}\\.`),
      groupId: prefix,
      isolatedDatabase: true,
      withoutWorkers: true,
      bcryptCost: 10
    }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("300 forged keys in flight: all 401, none takes a bcrypt lane from a real key, which is answered 200", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const honest = yield* issue(storeId, { type: "API_KEY" })
        const realBefore = yield* realComparisons
        const waitedBefore = yield* decoyWaits

        const forged = Effect.all(Array.from({ length: 300 }, () => validate({ authorization: `Bearer ${forgedKey()}` })), {
          concurrency: "unbounded"
        })
        const [answers, honestAnswer] = yield* Effect.all([forged, Effect.zipRight(Effect.sleep("50 millis"), validate(presentHeaders(honest)))], {
          concurrency: "unbounded"
        })
        expect(honestAnswer.status).toBe(200)
        expect(answers.map((a) => a.status)).toEqual(Array(300).fill(401))
        for (const answer of answers) expect(answer.body).toEqual({ valid: false })
        // Only the honest key was compared for real; most forged ones waited without a comparison.
        expect((yield* realComparisons) - realBefore).toBe(1)
        expect((yield* decoyWaits) - waitedBefore).toBeGreaterThan(200)
      }), 120_000)

    it.effect("an unknown client_id is remembered for a few seconds: presented again, it is not looked up", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const storeId = newStoreId()
        const key = newSecret("API_KEY", newClientId("API_KEY"))
        expect((yield* validate({ authorization: `Bearer ${key.presented}` })).status).toBe(401)
        // The row appears behind the service's back (a client_id is never issued after being presented,
        // so only a test can do this): while the service remembers the id as unknown, it does not look.
        const hash = yield* Effect.promise(() => bcrypt.hash(key.secret, 4))
        yield* sql`INSERT INTO api_credentials (credential_id, store_id, name, type, client_id, hashed_secret, scopes, created_by)
                   VALUES (${randomUUID()}, ${storeId}, 'behind the back', 'API_KEY', ${key.clientId}, ${hash}, ${["orders:read"]}, 'test')`
        expect((yield* validate({ authorization: `Bearer ${key.presented}` })).status).toBe(401)
        // A different secret under a new client_id is looked up (and a real one validates).
        const real = yield* issue(storeId)
        expect((yield* validate(presentHeaders(real))).status).toBe(200)
      }))

    it.effect("wrong secrets flooding one known client_id are shed with 503 + Retry-After; another credential is still served", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const target = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const bystander = yield* issue(storeId, { type: "OAUTH_CLIENT" })
        const shedBefore = yield* count(comparisonsShed)

        const flood = Effect.all(
          Array.from({ length: 60 }, () => validate({ authorization: basic(target.clientId, newSecret("OAUTH_CLIENT", target.clientId).presented) })),
          { concurrency: "unbounded" }
        )
        const [answers, served] = yield* Effect.all([flood, Effect.zipRight(Effect.sleep("100 millis"), validate(presentHeaders(bystander)))], {
          concurrency: "unbounded"
        })
        expect(served.status).toBe(200)
        const statuses = answers.map((a) => a.status)
        expect(statuses.every((s) => s === 401 || s === 503), JSON.stringify(statuses)).toBe(true)
        const shed = answers.filter((a) => a.status === 503)
        expect(shed.length).toBeGreaterThan(0)
        expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2)
        for (const answer of shed) {
          expect(answer.body).toMatchObject({ valid: false, error: "temporarily_unavailable" })
          expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
          expect(answer.headers.get("cache-control")).toBe("no-store")
        }
        expect((yield* count(comparisonsShed)) - shedBefore).toBe(shed.length)
        // The flooded client itself is not locked out once the flood is over.
        expect((yield* validate(presentHeaders(target))).status).toBe(200)
      }), 120_000)
  })
})
