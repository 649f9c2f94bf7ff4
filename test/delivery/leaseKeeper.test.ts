/**
 * The lease keeper and the sweeper on a TestClock, against a recording store:
 * held claims are renewed every renew interval, and after the database was
 * unreachable the sweeper waits two renew intervals (every live holder has
 * renewed by then) before it frees expired leases.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref, TestClock } from "effect"
import type { DeliveryLane } from "../../src/programs/delivery/DeliveryLane.ts"
import { DatabaseHealth } from "../../src/programs/delivery/health.ts"
import { Holdings } from "../../src/programs/delivery/holdings.ts"
import { runLeaseKeeper } from "../../src/programs/delivery/leases.ts"
import { defaultDeliveryTimings } from "../../src/programs/delivery/timings.ts"
import type { DeliveryStoreShape } from "../../src/services/DeliveryStore.ts"
import { PersistenceError } from "../../src/services/Persistence.ts"

const timings = { ...defaultDeliveryTimings, renewInterval: "3 seconds", sweepInterval: "2 seconds" } as const
const lanes = [
  { lane: "webhook", leaseSeconds: 10 },
  { lane: "connector", leaseSeconds: 30 }
] as unknown as ReadonlyArray<DeliveryLane>

/** A store that records renewals and sweeps; `down` makes both fail as an unreachable database. */
const recordingStore = Effect.gen(function*() {
  const renewals = yield* Ref.make<Array<{ readonly at: number; readonly ids: ReadonlyArray<string>; readonly leaseSeconds: number }>>([])
  const sweeps = yield* Ref.make<Array<number>>([])
  const down = yield* Ref.make(false)
  const failures = yield* Ref.make<Array<number>>([])
  const unavailable = new PersistenceError({ kind: "Unavailable", operation: "test", detail: "connection lost" })
  const failIfDown = Effect.flatMap(Ref.get(down), (isDown) =>
    isDown
      ? TestClock.currentTimeMillis.pipe(
        Effect.flatMap((at) => Ref.update(failures, (all) => [...all, at])),
        Effect.zipRight(Effect.fail(unavailable))
      )
      : Effect.void)
  const store = {
    renewLeases: (ids: ReadonlyArray<string>, _owner: string, leaseSeconds: number) =>
      failIfDown.pipe(
        Effect.zipRight(TestClock.currentTimeMillis),
        Effect.flatMap((at) => Ref.update(renewals, (all) => [...all, { at, ids, leaseSeconds }])),
        Effect.as(ids.length)
      ),
    releaseExpiredLeases: failIfDown.pipe(
      Effect.zipRight(TestClock.currentTimeMillis),
      Effect.flatMap((at) => Ref.update(sweeps, (all) => [...all, at])),
      Effect.as(0)
    )
  } as unknown as DeliveryStoreShape
  return { store, renewals, sweeps, down, failures }
})

describe("lease keeper and sweeper (TestClock)", () => {
  it.scoped("renews what is held, per lane with its lease, every renew interval; nothing when nothing is held", () =>
    Effect.gen(function*() {
      const { renewals, store } = yield* recordingStore
      const holdings = new Holdings()
      yield* runLeaseKeeper({ store, lanes, holdings, owner: "me", timings, health: new DatabaseHealth() })
      yield* TestClock.adjust("3 seconds")
      expect(yield* Ref.get(renewals)).toEqual([])

      holdings.add("webhook", "d-1", 100)
      holdings.add("connector", "r-1", 100)
      yield* TestClock.adjust("3 seconds")
      expect(yield* Ref.get(renewals)).toEqual([
        { at: 6_000, ids: ["d-1"], leaseSeconds: 10 },
        { at: 6_000, ids: ["r-1"], leaseSeconds: 30 }
      ])
      holdings.remove("r-1")
      yield* TestClock.adjust("2999 millis")
      expect(yield* Ref.get(renewals)).toHaveLength(2)
      yield* TestClock.adjust("1 millis")
      expect((yield* Ref.get(renewals)).slice(2)).toEqual([{ at: 9_000, ids: ["d-1"], leaseSeconds: 10 }])
    }))

  it.scoped("after the database was unreachable, the sweeper frees nothing until two renew intervals have passed", () =>
    Effect.gen(function*() {
      const { down, failures, renewals, store, sweeps } = yield* recordingStore
      const holdings = new Holdings()
      holdings.add("webhook", "d-1", 100)
      yield* runLeaseKeeper({ store, lanes, holdings, owner: "me", timings, health: new DatabaseHealth() })
      // Healthy: a sweep at once, then one every sweep interval.
      yield* TestClock.adjust("4 seconds")
      expect(yield* Ref.get(sweeps)).toEqual([0, 2_000, 4_000])

      // Unreachable from 4 s to 10 s: renewals and sweeps fail (and their loops back off).
      yield* Ref.set(down, true)
      yield* TestClock.adjust("6 seconds")
      yield* Ref.set(down, false)
      const lastFailure = Math.max(...(yield* Ref.get(failures)))
      expect(lastFailure).toBeGreaterThan(4_000)
      const sweepsBefore = (yield* Ref.get(sweeps)).length

      yield* TestClock.adjust("12 seconds")
      // Renewals resumed at once; the sweeps waited until two renew intervals after the last failure.
      expect((yield* Ref.get(renewals)).some((r) => r.at > 10_000 && r.at < lastFailure + 6_000)).toBe(true)
      const after = (yield* Ref.get(sweeps)).slice(sweepsBefore)
      expect(after.length).toBeGreaterThan(0)
      for (const at of after) expect(at - lastFailure).toBeGreaterThanOrEqual(6_000)
    }))
})
