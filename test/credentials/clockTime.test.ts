/**
 * The validator's clock-driven behaviour under `TestClock`: a cached
 * credential refused at its expiry, a cache entry re-checked after its TTL,
 * and `last_used_at` coalesced into one write per 5 s window. The validator is
 * built inside each test, so it reads the test's clock; time moves only by
 * `TestClock.adjust`, never by waiting.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { DateTime, Effect, Layer, type Scope, TestClock, TestContext, TestServices } from "effect"
import { randomUUID } from "node:crypto"
import { CredentialsRepoSql } from "../../src/layers/CredentialsRepoSql.ts"
import { CryptoPrimitivesNode } from "../../src/layers/CryptoPrimitivesNode.ts"
import { NotificationsLocal } from "../../src/layers/NotificationsPg.ts"
import { PasswordHasherBcrypt } from "../../src/layers/PasswordHasherBcrypt.ts"
import { Credentials } from "../../src/programs/credentials/Credentials.ts"
import { CredentialValidator } from "../../src/programs/credentials/CredentialValidator.ts"
import { TestDbLive } from "../support/db.ts"
import { installLastUsedLog, lastUsedLog } from "./lastUsedLog.ts"
import { eventually } from "../support/eventually.ts"

const CredentialsInTest = Credentials.Default.pipe(
  Layer.provideMerge(CredentialValidator.Default),
  Layer.provide([CredentialsRepoSql, PasswordHasherBcrypt(4), NotificationsLocal, CryptoPrimitivesNode])
)

const storeId = () => `store-clock-${randomUUID().slice(0, 8)}`
const apiKey = (key: string) => ({ _tag: "ApiKey", key }) as const

/**
 * Runs `body` with a validator built on a TestClock set to the real time (so
 * rows written with it read sensibly). The clock is set before the validator
 * exists: setting it later would replay every 5 s flush since the epoch.
 */
const onTestClock = <A, E>(body: Effect.Effect<A, E, Credentials | CredentialValidator | SqlClient | Scope.Scope>) =>
  Effect.zipRight(TestClock.setTime(Date.now()), Effect.provide(body, CredentialsInTest)).pipe(
    Effect.provide(TestContext.TestContext)
  )

const lastUsedAt = (id: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ last_used_at: Date | null }>`SELECT last_used_at FROM api_credentials WHERE credential_id = ${id}::uuid`
  ).pipe(Effect.map((rows) => rows[0]?.last_used_at ?? null), Effect.orDie)

/** Waits on the real clock (the flush is database I/O, not a timer of the test's). */
const eventuallyLive = <A>(effect: Effect.Effect<A, never, SqlClient>, done: (a: A) => boolean) =>
  TestServices.provideLive(eventually(effect, done, "10 seconds"))

describe("credential time under TestClock (real PostgreSQL)", () => {
  // The database is built on the real clock (migrations wait on a lock); each test runs on a TestClock.
  layer(TestDbLive, { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.scoped("a cached API key is refused from the millisecond of its expiry, without waiting for it", () =>
      onTestClock(Effect.gen(function*() {
        const credentials = yield* Credentials
        const validator = yield* CredentialValidator
        // Expiring within the cache's 60 s TTL, so the cached entry is what must see it.
        const expiresAt = DateTime.unsafeMake((yield* TestClock.currentTimeMillis) + 30_000)
        const key = yield* credentials.issue(storeId(), {
          name: "expiring",
          type: "API_KEY",
          scopes: ["orders:read"],
          expiresAt,
          createdBy: "test"
        })
        expect((yield* validator.validate(apiKey(key.secret)))._tag).toBe("Valid")
        // Cached now: the next answers come from memory, and still see the expiry.
        yield* TestClock.adjust("29999 millis")
        expect(validator.cached(apiKey(key.secret))).toBeDefined()
        yield* TestClock.adjust("1 millis")
        expect(validator.cached(apiKey(key.secret))).toBeUndefined()
        expect((yield* validator.validate(apiKey(key.secret)))._tag).toBe("Invalid")
      })))

    it.scoped("a cached answer is re-checked against the database after its 60 s TTL", () =>
      onTestClock(Effect.gen(function*() {
        const sql = yield* SqlClient
        const credentials = yield* Credentials
        const validator = yield* CredentialValidator
        const key = yield* credentials.issue(storeId(), { name: "ttl", type: "API_KEY", scopes: [], createdBy: "test" })
        expect((yield* validator.validate(apiKey(key.secret)))._tag).toBe("Valid")
        // Deactivated behind the service's back (no notification): the cache still answers, until its TTL.
        yield* sql`UPDATE api_credentials SET is_active = false WHERE credential_id = ${key.id}::uuid`
        yield* TestClock.adjust("59 seconds")
        expect((yield* validator.validate(apiKey(key.secret)))._tag).toBe("Valid")
        yield* TestClock.adjust("2 seconds")
        expect((yield* validator.validate(apiKey(key.secret)))._tag).toBe("Invalid")
      })))

    it.scoped("last_used_at: nothing written per validation; one statement per 5 s window for all credentials, with the latest use", () =>
      onTestClock(Effect.gen(function*() {
        yield* installLastUsedLog
        const credentials = yield* Credentials
        const validator = yield* CredentialValidator
        const store = storeId()
        const key = yield* credentials.issue(store, { name: "used", type: "API_KEY", scopes: [], createdBy: "test" })
        const other = yield* credentials.issue(store, { name: "other", type: "API_KEY", scopes: [], createdBy: "test" })
        const start = yield* TestClock.currentTimeMillis
        // 15 s of steady use: 150 validations, 100 ms apart, alternating credentials. The flush
        // is real database I/O: each window waits for its flush to land before the clock moves
        // on, or the flush loop's next timer would start late.
        const keyUses: Array<number> = []
        let log: ReadonlyArray<{ readonly txid: string; readonly last_used_at: Date }> = []
        for (let window = 1; window <= 3; window++) {
          for (let i = 0; i < 50; i++) {
            const presented = apiKey((i % 2 === 0 ? key : other).secret)
            expect((yield* validator.validate(presented))._tag).toBe("Valid")
            if (i % 2 === 0) keyUses.push(yield* TestClock.currentTimeMillis)
            if (window === 1 && i === 0) expect(yield* lastUsedAt(key.id)).toBeNull()
            yield* TestClock.adjust("100 millis")
          }
          // The flush at 5 s × window: one statement for both credentials.
          log = yield* eventuallyLive(lastUsedLog(key.id), (entries) => entries.length === window)
        }
        const otherLog = yield* lastUsedLog(other.id)
        expect(otherLog.map((l) => l.txid)).toEqual(log.map((l) => l.txid))
        expect(new Set(log.map((l) => l.txid)).size).toBe(3)
        // Each wrote the latest use before its window closed.
        const windowEnds = [5_000, 10_000, 15_000].map((ms) => start + ms)
        expect(log.map((l) => l.last_used_at.getTime())).toEqual(
          windowEnds.map((end) => Math.max(...keyUses.filter((at) => at < end)))
        )
        // Nothing more without use; the admin's view shows the last one.
        yield* TestClock.adjust("10 seconds")
        expect(yield* lastUsedLog(key.id)).toHaveLength(3)
        const shown = yield* credentials.show(store, key.id)
        expect(shown.lastUsedAt && DateTime.toEpochMillis(shown.lastUsedAt)).toBe(log[2]!.last_used_at.getTime())
      })))
  })
})
