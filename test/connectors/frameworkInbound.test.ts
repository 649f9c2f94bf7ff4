/**
 * Inbound polls through a TestApp (real PostgreSQL, the real Kafka broker, a
 * fake Amazon SP-API): records published to `connector.order.imported` exactly
 * once per change, failed polls, the lease, and the poll fibers following
 * config changes.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { adminFetch, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import {
  amazonFake,
  amazonSettings,
  changeKeys,
  createConfig,
  importedTopic,
  order,
  pollNow,
  pollState,
  putCredentials,
  syncLog,
  tapImported,
  uniqueStore
} from "./frameworkHelpers.ts"
import { json } from "./fakeServer.ts"

const prefix = `connfwi-${randomUUID().slice(0, 8)}`

describe("connector framework: inbound polls (real PostgreSQL and Kafka, fake Amazon SP-API)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 90_000
  })((it) => {
    // -------------------------------------------------------------------------------------------
    // Inbound

    it.scoped("polls publish imported orders to connector.order.imported in the SPEC envelope, each change exactly once", () =>
      Effect.gen(function*() {
        const tap = yield* tapImported
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        // Inactive: only the polls this test asks for (POST …/poll) run.
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        yield* putCredentials(storeId, config.id)
        const a1 = order("111-0000001-0000001", "2024-05-01T10:00:00Z")
        const b1 = order("111-0000002-0000002", "2024-05-01T10:05:00Z", "Pending")
        fake.orders = [a1, b1]

        const first = yield* pollNow(storeId, config.id)
        expect(first.status).toBe(200)
        expect(first.body).toEqual({ status: "SUCCEEDED", recordCount: 2, error: null })
        const published = yield* tap.waitFor(config.id, 2)
        expect(changeKeys(published)).toEqual([
          "111-0000001-0000001@2024-05-01T10:00:00Z",
          "111-0000002-0000002@2024-05-01T10:05:00Z"
        ])
        for (const message of published) {
          expect(message.topic).toBe(importedTopic)
          expect(message.key).toBe(storeId)
          expect(Object.keys(message.value).sort()).toEqual(["data", "eventId", "eventType", "occurredAt", "storeId"])
          const envelope = Schema.decodeUnknownSync(EventEnvelope)(message.value)
          expect(envelope.eventType).toBe(importedTopic)
          expect(envelope.storeId).toBe(storeId)
          expect(Date.parse(envelope.occurredAt)).not.toBeNaN()
        }
        expect(published[1]!.value.data).toEqual({
          configId: config.id,
          connectorType: "amazon",
          entityType: "order",
          externalOrderId: "111-0000002-0000002",
          status: "Pending",
          updatedAt: "2024-05-01T10:05:00Z",
          order: b1
        })
        expect(new Set(published.map((m) => m.value.eventId)).size).toBe(2)

        const cursor = (yield* pollState(config.id))!.cursor
        const [request1] = fake.ordersRequests()
        expect(cursor).toBe(request1!.query.get("LastUpdatedBefore"))

        // The next window starts at the stored cursor and, inclusive as Amazon's is, answers the
        // same orders again, with one of them changed since and a new one.
        const a2 = order("111-0000001-0000001", "2024-05-01T11:00:00Z", "Shipped")
        const c1 = order("111-0000003-0000003", "2024-05-01T11:30:00Z")
        fake.orders = [a1, b1, a2, c1]
        const second = yield* pollNow(storeId, config.id)
        expect(second.status).toBe(200)
        const request2 = fake.ordersRequests()[1]!
        expect(request2.query.get("LastUpdatedAfter")).toBe(cursor)
        const all = yield* tap.waitFor(config.id, 4)
        expect(changeKeys(all)).toEqual([
          "111-0000001-0000001@2024-05-01T10:00:00Z",
          "111-0000002-0000002@2024-05-01T10:05:00Z",
          "111-0000001-0000001@2024-05-01T11:00:00Z",
          "111-0000003-0000003@2024-05-01T11:30:00Z"
        ])
        expect(second.body).toEqual({ status: "SUCCEEDED", recordCount: 2, error: null })

        // Nothing new: nothing published.
        const third = yield* pollNow(storeId, config.id)
        expect(third.body).toEqual({ status: "SUCCEEDED", recordCount: 0, error: null })
        // waitFor's sentinel comes after anything the third poll committed.
        expect(yield* tap.waitFor(config.id, 4)).toHaveLength(4)

        const inbound = (yield* syncLog(storeId, config.id)).filter((i) => i.direction === "INBOUND")
        expect(inbound.map((i) => [i.status, i.entityType, i.recordCount])).toEqual([
          ["SUCCEEDED", "order", 0],
          ["SUCCEEDED", "order", 2],
          ["SUCCEEDED", "order", 2]
        ])
        expect(fake.errors).toEqual([])
      }))

    it.scoped("a failed poll is a FAILED INBOUND run and leaves the cursor where it was", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        // No credentials yet.
        const missing = yield* pollNow(storeId, config.id)
        expect(missing.status).toBe(200)
        expect(missing.body.status).toBe("FAILED")
        expect(missing.body.recordCount).toBe(0)
        expect(missing.body.error).toContain("credential api-key is not set")
        expect(fake.requests).toHaveLength(0)

        yield* putCredentials(storeId, config.id)
        fake.orders = [order("111-0000009-0000009", "2024-05-01T10:00:00Z")]
        expect((yield* pollNow(storeId, config.id)).body.status).toBe("SUCCEEDED")
        const cursor = (yield* pollState(config.id))!.cursor
        expect(cursor).not.toBeNull()

        fake.setHandler(() => json(400, { errors: [{ code: "InvalidInput", message: "Invalid MarketplaceIds" }] }))
        const rejected = yield* pollNow(storeId, config.id)
        expect(rejected.body.status).toBe("FAILED")
        expect(rejected.body.error).toContain("Invalid MarketplaceIds")
        expect((yield* pollState(config.id))!.cursor).toBe(cursor)

        const inbound = (yield* syncLog(storeId, config.id)).filter((i) => i.direction === "INBOUND")
        expect(inbound.map((i) => i.status)).toEqual(["FAILED", "SUCCEEDED", "FAILED"])
        expect(inbound[0]!.errorSummary).toContain("Invalid MarketplaceIds")
        expect(inbound[2]!.errorSummary).toContain("credential api-key is not set")
      }))

    it.scoped("POST …/poll is 409 while another instance holds the lease, 200 once it expired; 404 for unknown configs", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const config = yield* createConfig(storeId, { isActive: false, settings: amazonSettings(fake) })
        yield* putCredentials(storeId, config.id)
        const sql = yield* SqlClient
        yield* sql`INSERT INTO connector_poll_state (config_id, lease_owner, lease_expires_at)
                   VALUES (${config.id}::uuid, 'instance-elsewhere', now() + interval '5 minutes')`.pipe(Effect.orDie)

        const busy = yield* pollNow(storeId, config.id)
        expect(busy.status).toBe(409)
        expect(busy.body.error).toBe("conflict")
        expect(fake.requests).toHaveLength(0)
        expect((yield* pollState(config.id))!.lease_owner).toBe("instance-elsewhere")

        // The other instance died: its lease runs out and this one takes over.
        yield* sql`UPDATE connector_poll_state SET lease_expires_at = now() - interval '1 second'
                   WHERE config_id = ${config.id}::uuid`.pipe(Effect.orDie)
        const taken = yield* pollNow(storeId, config.id)
        expect(taken.status).toBe(200)
        expect(taken.body.status).toBe("SUCCEEDED")
        const state = (yield* pollState(config.id))!
        expect(state.lease_owner).toMatch(/^instance-/)
        expect(state.lease_owner).not.toBe("instance-elsewhere")
        // The lease lasts the poll interval (60 s) plus a minute.
        expect(state.lease_seconds!).toBeGreaterThan(100)
        expect(state.lease_seconds!).toBeLessThanOrEqual(120)

        expect((yield* pollNow(storeId, randomUUID())).status).toBe(404)
      }))

    it.scoped("poll fibers follow config changes without a restart: create, credentials, deactivate, reactivate, delete", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore()
        const fake = yield* amazonFake
        const polls = () => fake.ordersRequests().length
        const waitPolls = (n: number) => eventually(Effect.sync(polls), (count) => count >= n, "8 seconds")
        // A marker config on a marketplace of its own, activated now: once its poll has finished, the
        // supervisor has reconciled after every change before it (one pass covers every config), and a
        // fiber such a pass started for this config would have polled alongside the marker's.
        const marker = yield* amazonFake
        const supervisorPassed = Effect.gen(function*() {
          const markerStore = uniqueStore("marker")
          const markerConfig = yield* createConfig(markerStore, { isActive: false, settings: amazonSettings(marker) })
          yield* putCredentials(markerStore, markerConfig.id)
          const path = `/stores/${markerStore}/connectors/${markerConfig.id}`
          expect((yield* adminFetch(path, { method: "PATCH", body: { isActive: true } })).status).toBe(200)
          yield* eventually(syncLog(markerStore, markerConfig.id), (items) => items.some((i) => i.status === "SUCCEEDED"), "8 seconds")
          expect((yield* adminFetch(path, { method: "DELETE" })).status).toBe(204)
        })
        /** No poll of this config, up to a supervisor pass after every change so far. */
        const expectNoPollYet = Effect.gen(function*() {
          const before = polls()
          yield* supervisorPassed
          expect(polls()).toBe(before)
        })

        // Active, 60 s interval, no credentials yet: polled at once (a FAILED run, nothing sent).
        const config = yield* createConfig(storeId, { settings: amazonSettings(fake, { pollIntervalSeconds: 60 }) })
        // The run's row is written RUNNING first: wait for its outcome.
        const failed = yield* eventually(syncLog(storeId, config.id), (items) => items.length >= 1 && items[0]!.status !== "RUNNING", "8 seconds")
        expect(failed[0]).toMatchObject({ direction: "INBOUND", status: "FAILED" })
        expect(failed[0]!.errorSummary).toContain("credential api-key is not set")
        expect(fake.requests).toHaveLength(0)

        // Credentials: the poll fiber starts over with them and polls at once.
        yield* putCredentials(storeId, config.id)
        yield* waitPolls(1)
        // …and keeps its result: the cursor moved (the replaced fiber, stopping, did not take the lease away mid-poll).
        const state = (yield* eventually(pollState(config.id), (s) => s?.cursor != null, "8 seconds"))!
        expect(state.cursor).toBe(fake.ordersRequests()[0]!.query.get("LastUpdatedBefore"))
        expect(state.lease_owner).toMatch(/^instance-/)
        expect(state.lease_seconds!).toBeGreaterThan(100)
        // One fiber, one poll: the replaced fiber did not poll as well.
        yield* supervisorPassed
        expect(polls()).toBe(1)

        // Deactivated: the fiber stops (and lets go of its lease); no poll, even after further changes.
        const off = yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { isActive: false } })
        expect(off.status).toBe(200)
        expect(off.body.isActive).toBe(false)
        yield* eventually(pollState(config.id), (s) => s?.lease_owner === null, "8 seconds")
        yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { displayName: "still off" } })
        yield* expectNoPollYet

        // Reactivated: polled again at once.
        const on = yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "PATCH", body: { isActive: true } })
        expect(on.status).toBe(200)
        yield* waitPolls(2)
        yield* supervisorPassed
        expect(polls()).toBe(2)
        // The lease is taken again by the new fiber.
        expect((yield* pollState(config.id))!.lease_owner).toMatch(/^instance-/)

        // Deleted: the fiber stops.
        expect((yield* adminFetch(`/stores/${storeId}/connectors/${config.id}`, { method: "DELETE" })).status).toBe(204)
        expect(yield* pollState(config.id)).toBeUndefined()
        yield* expectNoPollYet
        expect(fake.errors).toEqual([])
        expect(marker.errors).toEqual([])
      }))
  })
})
