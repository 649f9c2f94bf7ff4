import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Option, Queue } from "effect"
import { randomUUID } from "node:crypto"
import { verify } from "../../src/domain/webhooks/signature.ts"
import { adminFetch, adminToken, TestApp } from "../support/app.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"
import {
  createSubscription,
  deliveryRow,
  insertAttempt,
  insertDelivery,
  newStoreId,
  rawFetch,
  subscriptionRow,
  vaultSecret
} from "./adminApiHelpers.ts"

const prefix = `subs-api-${randomUUID().slice(0, 8)}`

/** The random part of a signing secret (`whsec_` + standard base64, as Standard Webhooks has it), as bytes. */
const secretBytes = (secret: string) => {
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
  return Buffer.from(secret.slice("whsec_".length), "base64")
}

/** Every row of every table of this database, as text, that contains `needle`. */
const rowsContaining = (needle: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const tables = yield* sql<{ name: string }>`
      SELECT quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`
    expect(tables.map((t) => t.name)).toContain("webhook_subscriptions")
    let hits = 0
    for (const { name } of tables) {
      const [row] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ${sql.literal(name)} t WHERE strpos(t::text, ${needle}) > 0`
      hits += row!.n
    }
    return hits
  })

const allRoutes = (storeId: string, id: string) =>
  [
    ["POST", `/stores/${storeId}/webhooks`],
    ["GET", `/stores/${storeId}/webhooks`],
    ["GET", `/stores/${storeId}/webhooks/${id}`],
    ["PATCH", `/stores/${storeId}/webhooks/${id}`],
    ["DELETE", `/stores/${storeId}/webhooks/${id}`],
    ["POST", `/stores/${storeId}/webhooks/${id}/secret/rotate`],
    ["GET", `/stores/${storeId}/deliveries`],
    ["GET", `/stores/${storeId}/deliveries/${id}`],
    ["POST", `/stores/${storeId}/deliveries/${id}/retry`],
    ["POST", `/stores/${storeId}/deliveries/retry`]
  ] as const

describe("webhook subscriptions admin API", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("create answers 201 with the subscription and a fresh random secret kept in Vault only", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const response = yield* adminFetch(`/stores/${storeId}/webhooks`, {
          method: "POST",
          body: {
            name: "  Order feed  ",
            targetUrl: "https://hooks.example.com/ss3?x=1",
            events: ["order.placed", "order.fulfilled", "order.placed"]
          }
        })
        expect(response.status).toBe(201)
        const created = response.body
        expect(created).toMatchObject({
          storeId,
          name: "Order feed",
          targetUrl: "https://hooks.example.com/ss3?x=1",
          events: ["order.placed", "order.fulfilled"],
          isActive: true
        })
        expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
        expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false)

        const secret: string = created.signingSecret
        expect(secretBytes(secret).length).toBeGreaterThanOrEqual(32)
        const other = yield* createSubscription(storeId)
        expect(other.signingSecret).not.toBe(secret)
        expect(other.id).not.toBe(created.id)

        // Vault holds it at integration-service/webhook/{id} ...
        expect(yield* vaultSecret(created.id)).toEqual(Option.some(secret))
        // ... and no table of the database does, not even the subscription's own row.
        const row = yield* subscriptionRow(created.id)
        expect(row).toBeDefined()
        expect(row!.row).not.toContain(secret)
        expect(row!.row).not.toContain(secret.replace(/^[a-z]+_/, ""))
        expect(row!.secret_version).toBe(1)
        expect(yield* rowsContaining(secret.replace(/^[a-z]+_/, ""))).toBe(0)
        // (the scan does find what is there: the subscription's id)
        expect(yield* rowsContaining(created.id)).toBeGreaterThan(0)
      }))

    it.effect("create can start inactive; list, show and update never show the secret", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId, { isActive: false, events: ["*"] })
        expect(created.isActive).toBe(false)
        expect(created.events).toEqual(["*"])

        const shown = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`)
        expect(shown.status).toBe(200)
        const { signingSecret: _, ...withoutSecret } = created
        expect(shown.body).toEqual(withoutSecret)
        expect(JSON.stringify(shown.body)).not.toContain(created.signingSecret)

        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(JSON.stringify(listed.body)).not.toContain(created.signingSecret)
        const updated = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`, { method: "PATCH", body: { name: "x" } })
        expect(updated.status).toBe(200)
        expect(updated.body.signingSecret).toBeUndefined()
      }))

    it.effect("list answers the store's subscriptions, newest first", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const empty = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(empty.status).toBe(200)
        expect(empty.body).toEqual({ items: [] })

        const a = yield* createSubscription(storeId, { name: "a" })
        const b = yield* createSubscription(storeId, { name: "b" })
        const c = yield* createSubscription(storeId, { name: "c" })
        yield* createSubscription(newStoreId("elsewhere"), { name: "other store" })

        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.status).toBe(200)
        expect(listed.body.items.map((s: any) => s.id)).toEqual([c.id, b.id, a.id])
        expect(listed.body.items[2]).toMatchObject({ name: "a", storeId, events: ["order.placed"], isActive: true })
      }))

    it.effect("show answers 404 for an id that does not exist", () =>
      Effect.gen(function*() {
        const response = yield* adminFetch(`/stores/${newStoreId()}/webhooks/${randomUUID()}`)
        expect(response.status).toBe(404)
        expect(response.body).toEqual({ error: "not_found", message: expect.any(String) })
      }))

    it.effect("update changes name, targetUrl, events (deduplicated) and isActive, each on its own", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId)
        const path = `/stores/${storeId}/webhooks/${created.id}`
        const patch = (body: unknown) => adminFetch(path, { method: "PATCH", body })

        const renamed = yield* patch({ name: "  renamed " })
        expect(renamed.status).toBe(200)
        expect(renamed.body).toMatchObject({
          id: created.id,
          name: "renamed",
          targetUrl: created.targetUrl,
          events: created.events,
          isActive: true
        })
        expect(Date.parse(renamed.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt))
        expect(renamed.body.createdAt).toBe(created.createdAt)

        const moved = yield* patch({ targetUrl: "https://other.example.com/in" })
        expect(moved.status).toBe(200)
        expect(moved.body).toMatchObject({ name: "renamed", targetUrl: "https://other.example.com/in" })

        const events = yield* patch({ events: ["inventory.updated", "order.placed", "inventory.updated", "order.placed"] })
        expect(events.status).toBe(200)
        expect(events.body.events).toEqual(["inventory.updated", "order.placed"])

        const paused = yield* patch({ isActive: false })
        expect(paused.status).toBe(200)
        expect(paused.body).toMatchObject({
          name: "renamed",
          targetUrl: "https://other.example.com/in",
          events: ["inventory.updated", "order.placed"],
          isActive: false
        })
        const resumed = yield* patch({ isActive: true, name: "both" })
        expect(resumed.body).toMatchObject({ isActive: true, name: "both" })

        // What the API said is what is stored.
        const shown = yield* adminFetch(path)
        expect(shown.body).toEqual(resumed.body)
        const row = yield* subscriptionRow(created.id)
        expect(row).toMatchObject({
          name: "both",
          target_url: "https://other.example.com/in",
          events: ["inventory.updated", "order.placed"],
          is_active: true,
          secret_version: 1
        })

        // An empty patch changes nothing it names.
        const noop = yield* patch({})
        expect(noop.status).toBe(200)
        expect(noop.body).toMatchObject({ name: "both", isActive: true, events: ["inventory.updated", "order.placed"] })
      }))

    it.effect("update answers 404 for an id that does not exist", () =>
      Effect.gen(function*() {
        const response = yield* adminFetch(`/stores/${newStoreId()}/webhooks/${randomUUID()}`, {
          method: "PATCH",
          body: { name: "x" }
        })
        expect(response.status).toBe(404)
        expect(response.body.error).toBe("not_found")
      }))

    it.effect("delete answers 204, removes the Vault secret, and its deliveries (and their attempts) go with it", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId)
        const kept = yield* createSubscription(storeId, { name: "kept" })
        const d1 = yield* insertDelivery({ subscriptionId: created.id, storeId, status: "DEAD_LETTERED" })
        const d2 = yield* insertDelivery({ subscriptionId: created.id, storeId, status: "DELIVERED" })
        const dKept = yield* insertDelivery({ subscriptionId: kept.id, storeId, status: "DELIVERED" })
        yield* insertAttempt(d1.id, 1, new Date().toISOString(), 500, null)
        expect(Option.isSome(yield* vaultSecret(created.id))).toBe(true)

        const response = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`, { method: "DELETE" })
        expect(response.status).toBe(204)
        expect(response.body).toBeUndefined()

        expect(yield* subscriptionRow(created.id)).toBeUndefined()
        expect(yield* vaultSecret(created.id)).toEqual(Option.none())
        expect(yield* deliveryRow(d1.id)).toBeUndefined()
        expect(yield* deliveryRow(d2.id)).toBeUndefined()
        const [attempts] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM webhook_delivery_attempts WHERE delivery_id = ${d1.id}`
        expect(attempts!.n).toBe(0)

        // The store's other subscription is untouched.
        expect(yield* deliveryRow(dKept.id)).toBeDefined()
        expect(Option.isSome(yield* vaultSecret(kept.id))).toBe(true)

        expect((yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`)).status).toBe(404)
        expect((yield* adminFetch(`/stores/${storeId}/deliveries/${d1.id}`)).status).toBe(404)
        const again = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}`, { method: "DELETE" })
        expect(again.status).toBe(404)
        expect(again.body.error).toBe("not_found")
        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.body.items.map((s: any) => s.id)).toEqual([kept.id])
      }))

    it.effect("rotate answers a new secret, stores it in Vault (only there) and bumps secret_version", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId)
        const response = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}/secret/rotate`, { method: "POST" })
        expect(response.status).toBe(200)
        const { signingSecret, updatedAt: _u, ...rest } = response.body
        const { signingSecret: oldSecret, updatedAt: _o, ...before } = created
        expect(rest).toEqual(before)
        expect(signingSecret).not.toBe(oldSecret)
        expect(secretBytes(signingSecret).length).toBeGreaterThanOrEqual(32)

        expect(yield* vaultSecret(created.id)).toEqual(Option.some(signingSecret))
        const row = yield* subscriptionRow(created.id)
        expect(row!.secret_version).toBe(2)
        expect(row!.row).not.toContain(signingSecret.replace(/^[a-z]+_/, ""))
        expect(yield* rowsContaining(signingSecret.replace(/^[a-z]+_/, ""))).toBe(0)

        const third = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}/secret/rotate`, { method: "POST" })
        expect(third.status).toBe(200)
        expect(third.body.signingSecret).not.toBe(signingSecret)
        expect((yield* subscriptionRow(created.id))!.secret_version).toBe(3)

        const missing = yield* adminFetch(`/stores/${storeId}/webhooks/${randomUUID()}/secret/rotate`, { method: "POST" })
        expect(missing.status).toBe(404)
        expect(missing.body.error).toBe("not_found")
      }))

    it.scoped("after a rotation, deliveries are signed with the new secret", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId, { targetUrl: `${receiver.url}/hook` })

        // A due delivery: the workers' poller picks it up.
        const before = yield* insertDelivery({ subscriptionId: created.id, storeId, status: "PENDING", nextRetryAt: new Date().toISOString() })
        const first = yield* Queue.take(receiver.received).pipe(Effect.timeout("20 seconds"))
        expect(first.headers["x-ss3-delivery"]).toBe(before.id)
        expect(yield* verify(created.signingSecret, first.body, first.headers["x-ss3-signature"] as string)).toBe(true)

        const rotated = yield* adminFetch(`/stores/${storeId}/webhooks/${created.id}/secret/rotate`, { method: "POST" })
        expect(rotated.status).toBe(200)
        const after = yield* insertDelivery({ subscriptionId: created.id, storeId, status: "PENDING", nextRetryAt: new Date().toISOString() })
        const second = yield* Queue.take(receiver.received).pipe(Effect.timeout("20 seconds"))
        expect(second.headers["x-ss3-delivery"]).toBe(after.id)
        const signature = second.headers["x-ss3-signature"] as string
        expect(yield* verify(rotated.body.signingSecret, second.body, signature)).toBe(true)
        expect(yield* verify(created.signingSecret, second.body, signature)).toBe(false)
        yield* eventually(adminFetch(`/stores/${storeId}/deliveries/${after.id}`), (r) => r.body?.status === "DELIVERED")
      }))

    // KNOWN BUG (DeliveriesRepo.claimDeliveries), the same as knownBugs.test.ts 1, reached
    // through the admin API's pause: the claim's `due` CTE takes the oldest due deliveries
    // before the join drops the paused subscription's ones. Fix: join webhook_subscriptions
    // (AND s.is_active) inside the CTE (checked: the active delivery is then claimed).
    // Marked `.fails` while the bug is there; drop the `.fails` when it is fixed.
    it.scoped("a paused subscription's due backlog does not hold up other subscriptions' deliveries", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = newStoreId()
        const paused = yield* createSubscription(storeId, { name: "paused", targetUrl: `${receiver.url}/paused` })
        const active = yield* createSubscription(storeId, { name: "active", targetUrl: `${receiver.url}/active` })
        const off = yield* adminFetch(`/stores/${storeId}/webhooks/${paused.id}`, { method: "PATCH", body: { isActive: false } })
        expect(off.status).toBe(200)
        // More due deliveries of the paused subscription than any one claim takes (at most 256),
        // all due earlier than the active subscription's.
        const sql = yield* SqlClient
        // (Gone again afterwards, so the backlog can't hold up later tests of this file.)
        yield* Effect.addFinalizer(() =>
          Effect.orDie(sql`DELETE FROM webhook_deliveries WHERE subscription_id = ${paused.id}`)
        )
        yield* sql`
          INSERT INTO webhook_deliveries
            (delivery_id, subscription_id, store_id, event_type, event_id, event_payload, status, attempt_number, next_retry_at)
          SELECT gen_random_uuid(), ${paused.id}, ${storeId}, 'order.placed', gen_random_uuid(), '{}'::jsonb,
                 'FAILED', 1, now() - interval '1 minute' + i * interval '1 millisecond'
          FROM generate_series(1, 300) AS i`
        const d = yield* insertDelivery({ subscriptionId: active.id, storeId, status: "PENDING", nextRetryAt: new Date().toISOString() })
        const request = yield* Queue.take(receiver.received).pipe(
          Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the active subscription's delivery was never attempted") })
        )
        expect(request.path).toBe("/active")
        expect(request.headers["x-ss3-delivery"]).toBe(d.id)
      }))

    it.effect("every admin route answers 401 {error, message} without a valid admin token", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        const created = yield* createSubscription(storeId)
        const body = JSON.stringify({ name: "x", targetUrl: "https://hooks.example.com/", events: ["order.placed"] })
        const attempts: ReadonlyArray<Record<string, string>> = [
          {},
          { authorization: "Bearer wrong-token" },
          { authorization: "Bearer " },
          { authorization: `Bearer ${adminToken}-and-more` },
          { authorization: `Basic ${Buffer.from(`admin:${adminToken}`).toString("base64")}` },
          { authorization: adminToken }
        ]
        for (const [method, path] of allRoutes(storeId, created.id)) {
          for (const headers of attempts) {
            const response = yield* rawFetch(path, {
              method,
              headers: { ...headers, "content-type": "application/json" },
              ...(method === "GET" || method === "DELETE" ? {} : { body })
            })
            expect(response.status, `${method} ${path} with ${JSON.stringify(headers)}`).toBe(401)
            expect(response.body).toEqual({ error: "unauthorized", message: expect.any(String) })
          }
        }
        // Nothing changed behind the 401s.
        const row = yield* subscriptionRow(created.id)
        expect(row).toMatchObject({ name: created.name, secret_version: 1 })
        expect(yield* vaultSecret(created.id)).toEqual(Option.some(created.signingSecret))
        const listed = yield* adminFetch(`/stores/${storeId}/webhooks`)
        expect(listed.body.items).toHaveLength(1)
      }))

    it.effect("a request without a token but with a bad body is still a 401, not a 400", () =>
      Effect.gen(function*() {
        const response = yield* rawFetch(`/stores/${newStoreId()}/webhooks`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "" })
        })
        expect(response.status).toBe(401)
        expect(response.body.error).toBe("unauthorized")
      }))
  })
})
