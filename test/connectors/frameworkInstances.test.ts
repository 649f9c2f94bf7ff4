/**
 * Connector polling across service instances on one PostgreSQL database (a
 * fresh one per test) and the real Kafka broker: the cursor survives a
 * restart, a graceful stop lets go of the leases, and of two instances one
 * polls a config at a time.
 *
 * Each TestApp has an in-memory Vault of its own: the credentials are PUT
 * through each instance (in production they share one Vault).
 */
import { describe, expect, it } from "@effect/vitest"
import { type Context, Effect, ExecutionStrategy, Exit, Layer, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, testKafka, TestApp } from "../support/app.ts"
import { freshDatabase, migratedDbLive, TestDbLive } from "../support/db.ts"
import { eventually } from "../support/eventually.ts"
import {
  amazonFake,
  amazonSettings,
  changeKeys,
  createConfig,
  order,
  pollNow,
  pollState,
  putCredentials,
  syncLog,
  tapImported,
  uniqueStore
} from "./frameworkHelpers.ts"

const prefix = `connfw-inst-${randomUUID().slice(0, 8)}`

/** One instance of the service on the database at `url`, built in `scope` (so a test can stop it). */
const startApp = (name: string, url: Parameters<typeof migratedDbLive>[0], scope: Scope.Scope) =>
  Layer.buildWithScope(
    TestApp({ eventTopics: new RegExp(`^${prefix}-${name}\\.`), groupId: `${prefix}-${name}`, database: migratedDbLive(url) }),
    scope
  )

const on = <A, E>(context: Context.Context<any>, effect: Effect.Effect<A, E, any>) =>
  Effect.provide(effect, context) as Effect.Effect<A, E, never>

/** A scope closed with the test's (when the test has not closed it before): an instance to stop. */
const childScope = Effect.flatMap(Effect.scope, (scope) => Scope.fork(scope, ExecutionStrategy.sequential))

/**
 * `app`'s poll supervisor has reconciled since this point: a marker config on a marketplace of its
 * own, whose lease `app` holds from a manual poll, is activated, and `app`'s poll fiber for it
 * polls (the other instance's finds the lease taken). One pass covers every config: `app` has
 * acted on every change before, and a poll fiber it started then has tried its lease meanwhile.
 */
const supervisorPassed = (app: Context.Context<any>) =>
  on(app, Effect.gen(function*() {
    const marker = yield* amazonFake
    const storeId = uniqueStore("marker")
    const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(marker, { pollIntervalSeconds: 60 }) })
    yield* putCredentials(storeId, config.id)
    expect((yield* pollNow(storeId, config.id)).body.status).toBe("SUCCEEDED")
    const activated = yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { isActive: true } })
    expect(activated.status).toBe(200)
    yield* eventually(syncLog(storeId, config.id), (items) => items.filter((i) => i.status === "SUCCEEDED").length >= 2, "10 seconds")
    expect(marker.errors).toEqual([])
  }))

/** A Kafka client of the test's own (outlives the apps it watches). */
const tapOwn = Effect.flatMap(Layer.build(testKafka(`${prefix}-tap`)), (kafka) => on(kafka, tapImported))

describe("connector polling across instances (real PostgreSQL and Kafka)", () => {
  it.live("the cursor survives a restart: the next poll starts from it and publishes nothing twice", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* freshDatabase
      const db = yield* Layer.build(migratedDbLive(url))
      const tap = yield* tapOwn
      const fake = yield* amazonFake
      const a1 = order("112-0000001-0000001", "2024-05-01T10:00:00Z")
      const b1 = order("112-0000002-0000002", "2024-05-01T10:05:00Z")
      fake.orders = [a1, b1]

      // First instance: an active config (60 s interval) is polled at once (a FAILED run: no
      // credentials yet), and again as soon as it has credentials.
      const firstScope = yield* childScope
      const first = yield* startApp("first", url, firstScope)
      const storeId = uniqueStore()
      const config = yield* on(first, createConfig(storeId, { settings: amazonSettings(fake, { pollIntervalSeconds: 60 }) }))
      const failedRuns = (n: number) =>
        (app: Context.Context<any>) =>
          on(app, eventually(syncLog(storeId, config.id), (items) => items.filter((i) => i.status === "FAILED").length >= n, "10 seconds"))
      yield* failedRuns(1)(first)
      yield* on(first, putCredentials(storeId, config.id))
      // The sentinel goes through the running instance's outbox (its database).
      const published = yield* on(first, tap.waitFor(config.id, 2))
      expect(changeKeys(published)).toEqual(["112-0000001-0000001@2024-05-01T10:00:00Z", "112-0000002-0000002@2024-05-01T10:05:00Z"])
      yield* on(db, eventually(pollState(config.id), (s) => s?.cursor != null))

      // Stopped gracefully: its lease is let go of; the cursor is the end of its last window.
      yield* Scope.close(firstScope, Exit.void)
      const stored = (yield* on(db, pollState(config.id)))!
      expect(stored.lease_owner).toBeNull()
      expect(stored.cursor).toBe(fake.ordersRequests().at(-1)!.query.get("LastUpdatedBefore"))
      const pollsBefore = fake.ordersRequests().length

      // A new instance on the same database polls the config at once (FAILED: its Vault is empty),
      // then with credentials; the marketplace answers the same orders again plus a new one.
      const c1 = order("112-0000003-0000003", "2024-05-01T11:00:00Z")
      fake.orders = [a1, b1, c1]
      const second = yield* startApp("second", url, yield* Effect.scope)
      yield* failedRuns(2)(second)
      yield* on(second, putCredentials(storeId, config.id))
      yield* eventually(Effect.sync(() => fake.ordersRequests().length), (n) => n > pollsBefore, "10 seconds")
      const resumed = fake.ordersRequests()[pollsBefore]!
      expect(resumed.query.get("LastUpdatedAfter")).toBe(stored.cursor)

      const all = yield* on(second, tap.waitFor(config.id, 3))
      expect(changeKeys(all)).toEqual([
        "112-0000001-0000001@2024-05-01T10:00:00Z",
        "112-0000002-0000002@2024-05-01T10:05:00Z",
        "112-0000003-0000003@2024-05-01T11:00:00Z"
      ])
      const inbound = (yield* on(second, syncLog(storeId, config.id))).filter((i) => i.status === "SUCCEEDED")
      expect(inbound.map((i) => i.recordCount)).toEqual([1, 2])
      expect(fake.errors).toEqual([])
    })).pipe(Effect.provide(TestDbLive)), 120_000)

  it.live("a manual poll's lease does not outlive a graceful stop: the next instance can poll at once", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* freshDatabase
      const db = yield* Layer.build(migratedDbLive(url))
      const fake = yield* amazonFake
      const firstScope = yield* childScope
      const first = yield* startApp("manual1", url, firstScope)
      const storeId = uniqueStore()
      const config = yield* on(first, createConfig(storeId, { isActive: false, settings: amazonSettings(fake) }))
      yield* on(first, putCredentials(storeId, config.id))
      expect((yield* on(first, pollNow(storeId, config.id))).status).toBe(200)
      yield* Scope.close(firstScope, Exit.void)
      expect((yield* on(db, pollState(config.id)))!.lease_owner).toBeNull()

      const second = yield* startApp("manual2", url, yield* Effect.scope)
      yield* on(second, putCredentials(storeId, config.id))
      const polled = yield* on(second, pollNow(storeId, config.id))
      expect(polled.status, JSON.stringify(polled.body)).toBe(200)
      expect(polled.body.status).toBe("SUCCEEDED")
    })).pipe(Effect.provide(TestDbLive)), 120_000)

  it.live("two instances on one database: one of them polls a config at a time (the lease), also across config changes", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* freshDatabase
      const db = yield* Layer.build(migratedDbLive(url))
      const fake = yield* amazonFake
      // A slow marketplace: two polls at once would overlap here.
      fake.ordersDelayMs = 1_000
      const scopeA = yield* childScope
      const scopeB = yield* childScope
      const a = yield* startApp("a", url, scopeA)
      const b = yield* startApp("b", url, scopeB)
      const storeId = uniqueStore()
      const config = yield* on(a, createConfig(storeId, { isActive: false, settings: amazonSettings(fake, { pollIntervalSeconds: 60 }) }))
      yield* on(a, putCredentials(storeId, config.id))
      yield* on(b, putCredentials(storeId, config.id))
      const polls = () => fake.ordersRequests().length
      /** Both supervisors have reacted (a pass of each since) and every poll of the config so far has finished. */
      const settle = Effect.gen(function*() {
        yield* supervisorPassed(a)
        yield* supervisorPassed(b)
        yield* on(a, eventually(
          syncLog(storeId, config.id),
          (items) => items.length >= polls() && items.every((i) => i.status !== "RUNNING"),
          "10 seconds"
        ))
      })

      // Activated through A: both instances start a poll fiber for it; one polls.
      expect((yield* on(a, adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { isActive: true } }))).status)
        .toBe(200)
      yield* eventually(Effect.sync(polls), (n) => n >= 1, "10 seconds")
      yield* settle
      expect(polls()).toBe(1)
      expect(fake.maxOrdersInFlight).toBe(1)

      // One holds the lease: POST …/poll is 200 there and 409 on the other.
      const [pollA, pollB] = [yield* on(a, pollNow(storeId, config.id)), yield* on(b, pollNow(storeId, config.id))]
      expect([pollA.status, pollB.status].sort()).toEqual([200, 409])
      expect(polls()).toBe(2)

      // A change through either instance restarts both fibers: still one poll.
      for (const via of [a, b]) {
        const before = polls()
        const patched = yield* on(via, adminFetch(`/stores/${storeId}/connectors/${config.id}`, {
          method: "PATCH",
          body: { displayName: `renamed ${randomUUID().slice(0, 4)}` }
        }))
        expect(patched.status).toBe(200)
        yield* eventually(Effect.sync(polls), (n) => n > before, "10 seconds")
        yield* settle
        expect(polls(), "polls after one config change").toBe(before + 1)
        expect(fake.maxOrdersInFlight).toBe(1)
      }
      const inbound = yield* on(a, syncLog(storeId, config.id))
      expect(inbound.every((i) => i.direction === "INBOUND" && i.status === "SUCCEEDED")).toBe(true)
      expect(inbound).toHaveLength(polls())

      // The lease holder of the moment stops gracefully: the other one can take over at once.
      expect((yield* on(db, pollState(config.id)))!.lease_owner).toMatch(/^instance-/)
      const viaA = yield* on(a, pollNow(storeId, config.id))
      const holder = viaA.status === 200 ? { scope: scopeA, survivor: b } : { scope: scopeB, survivor: a }
      if (viaA.status !== 200) {
        expect(viaA.status).toBe(409)
        expect((yield* on(b, pollNow(storeId, config.id))).status).toBe(200)
      }
      yield* Scope.close(holder.scope, Exit.void)
      const taken = yield* on(holder.survivor, pollNow(storeId, config.id))
      expect(taken.status, JSON.stringify(taken.body)).toBe(200)
      expect(fake.maxOrdersInFlight).toBe(1)
      expect(fake.errors).toEqual([])
    })).pipe(Effect.provide(TestDbLive)), 180_000)
})
