/**
 * Start-up, shutdown and crashes: no request is left unanswered while the API
 * is not attached, /readyz needs only the database, SIGTERM lets go of claims
 * not yet attempted at once, and after `kill -9` another instance attempts the
 * dead one's claims within 15 s. Real PostgreSQL and Kafka; the crash test
 * runs the service as `serve` in a child process.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Layer, Metric, Redacted, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { makeDbLive } from "../../src/layers/DbLive.ts"
import { makeHttpServerNode } from "../../src/layers/HttpServerNode.ts"
import { makeVaultLive } from "../../src/layers/VaultLive.ts"
import { claimsReleased } from "../../src/programs/delivery/metrics.ts"
import { Vault } from "../../src/services/Vault.ts"
import { adminFetch, baseUrl, testKafka, TestApp } from "../support/app.ts"
import { testKafkaBrokers } from "../support/context.ts"
import { freshDatabase, migratedDbLive, TestDbLive } from "../support/db.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"
import { startVaultKvDouble } from "../support/vaultKvDouble.ts"
import { attemptRows, deliveryRow, envelope, nextRequest, publishEvents, storeDeliveries, subscribe, uniqueStore } from "../webhooks/deliveryHelpers.ts"

const prefix = `life-${randomUUID().slice(0, 8)}`
const adminToken = "lifecycle-admin-token-0123456789abcdef"

/** `integration-service serve` in a child process; resolves with its address once it listens. */
const spawnServe = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly child: ChildProcess; readonly address: string }, Error>((resume) => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve"], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      const look = (chunk: Buffer) => {
        output += chunk.toString()
        const port = /Listening on http:\/\/[^:]+:(\d+)/.exec(output)?.[1]
        if (port !== undefined) {
          child.stdout!.off("data", look)
          resume(Effect.succeed({ child, address: `http://127.0.0.1:${port}` }))
        }
      }
      child.stdout!.on("data", look)
      child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()))
      child.on("exit", (code) => resume(Effect.fail(new Error(`serve exited (${code}) before listening:\n${output}`))))
    }).pipe(Effect.timeout("60 seconds")),
    ({ child }) => Effect.sync(() => void child.kill("SIGKILL"))
  )

describe("start-up, shutdown and crashes (real PostgreSQL and Kafka)", () => {
  it.scopedLive("a request that arrives before the API is attached gets a fast 503 with Retry-After, never silence", () =>
    Effect.gen(function*() {
      const server = yield* Layer.build(makeHttpServerNode(0, "127.0.0.1"))
      const base = yield* baseUrl.pipe(Effect.provide(server))
      const response = yield* Effect.promise(() => fetch(`${base}/credentials/validate`, { signal: AbortSignal.timeout(5000) }))
      expect(response.status).toBe(503)
      expect(response.headers.get("retry-after")).toBe("1")
      expect(yield* Effect.promise(() => response.json())).toMatchObject({ error: "unavailable" })
    }))

  it.scopedLive("with the brokers unreachable the service starts, /readyz is ready (database ok, kafka unavailable) and the gateway route answers", () =>
    Effect.gen(function*() {
      const app = yield* Layer.build(TestApp({
        eventTopics: new RegExp(`^${prefix}-nokafka\\.`),
        groupId: `${prefix}-nokafka`,
        isolatedDatabase: true,
        kafkaBrokers: ["127.0.0.1:9"]
      }))
      const ready = yield* adminFetch("/readyz").pipe(Effect.provide(app))
      expect(ready.status).toBe(200)
      expect(ready.body).toEqual({ status: "ready", checks: { database: "ok", kafka: "unavailable" } })
      const validate = yield* adminFetch("/credentials/validate", { token: "ss3k_not-a-key" }).pipe(Effect.provide(app))
      expect(validate.status).toBe(400)
    }), { timeout: 60_000 })

  it.scopedLive("shutdown (what SIGTERM does) releases claims not yet attempted at once; the attempt in flight finishes and is recorded", () =>
    Effect.gen(function*() {
      const admin = yield* Layer.build(TestDbLive)
      const url = yield* freshDatabase.pipe(Effect.provide(admin))
      const scope = yield* Scope.make()
      const app = yield* Layer.buildWithScope(TestApp({
        eventTopics: new RegExp(`^${prefix}-term\\.`),
        groupId: `${prefix}-term`,
        database: migratedDbLive(url),
        webhookTimeoutMs: 20_000,
        workers: { webhookConcurrency: 1, webhookLeaseSeconds: 60 }
      }), scope)
      const answer = yield* Deferred.make<void>()
      const receiver = yield* startReceiver((_, res) => {
        Effect.runPromise(Deferred.await(answer)).then(() => res.end("ok"))
      })
      const storeId = uniqueStore()
      yield* subscribe(storeId, `${receiver.url}/hook`).pipe(Effect.provide(app))
      yield* publishEvents(`${prefix}-term.orders`, Array.from({ length: 5 }, () => envelope(storeId))).pipe(Effect.provide(app))
      const inFlight = (yield* nextRequest(receiver.received)).headers["x-ss3-delivery"] as string
      // One worker: one attempt in flight, one more claimed and queued behind it (60 s leases).
      const claimed = yield* eventually(
        storeDeliveries(storeId).pipe(Effect.provide(app)),
        (rows) => rows.length === 5 && rows.filter((r) => r.lease_expires_at !== null).length === 2
      )
      const queued = claimed.find((r) => r.lease_expires_at !== null && r.delivery_id !== inFlight)!.delivery_id
      const released = yield* Metric.value(Metric.tagged(claimsReleased, "by", "shutdown"))

      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      // The queued claim is let go of before the attempt in flight is answered (one worker: it would take it next).
      yield* eventually(Metric.value(Metric.tagged(claimsReleased, "by", "shutdown")), (now) => now.count > released.count)
      yield* Deferred.succeed(answer, undefined)
      yield* closing.await.pipe(Effect.timeout("20 seconds"))

      // What shutdown left behind, read after the instance is gone.
      const db = yield* Layer.build(makeDbLive(url, { maxConnections: 1 }))
      const rows = yield* storeDeliveries(storeId).pipe(Effect.provide(db))
      expect(rows.find((r) => r.delivery_id === inFlight)).toMatchObject({ status: "DELIVERED", attempt_number: 1, lease_expires_at: null })
      expect(rows.find((r) => r.delivery_id === queued)).toMatchObject({ status: "PENDING", attempt_number: 0, lease_expires_at: null })
      expect(rows.filter((r) => r.status === "PENDING" && r.lease_expires_at === null)).toHaveLength(4)
      expect(yield* attemptRows(queued).pipe(Effect.provide(db))).toHaveLength(0)
      expect((yield* Metric.value(Metric.tagged(claimsReleased, "by", "shutdown"))).count - released.count).toBe(1)
    }), { timeout: 60_000 })

  it.scopedLive("kill -9 with attempts in flight: a new instance attempts the dead one's claims within 15 s, each once, recorded once", () =>
    Effect.gen(function*() {
      const admin = yield* Layer.build(TestDbLive)
      const url = yield* freshDatabase.pipe(Effect.provide(admin))
      const double = yield* startVaultKvDouble()
      const seen = new Set<string>()
      const receiver = yield* startReceiver((request, res) => {
        const id = request.headers["x-ss3-delivery"] as string
        // The first attempt of each delivery never gets an answer: the instance dies with it in flight.
        if (seen.has(id)) res.end("ok")
        seen.add(id)
      })
      const topic = `${prefix}-kill.orders`
      const dead = yield* spawnServe({
        PORT: "0",
        DATABASE_URL: Redacted.value(url),
        KAFKA_BROKERS: testKafkaBrokers(),
        KAFKA_EVENT_TOPICS: `^${prefix}-kill\\.`,
        VAULT_ADDR: double.address,
        VAULT_TOKEN: double.token,
        VAULT_KV_MOUNT: double.mount,
        ADMIN_TOKEN: adminToken,
        WEBHOOK_ALLOW_INSECURE_TARGETS: "true",
        LOG_LEVEL: "info"
      })
      const storeId = uniqueStore()
      const created = yield* Effect.promise(() =>
        fetch(`${dead.address}/stores/${storeId}/webhooks`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "crash", targetUrl: `${receiver.url}/hook`, events: ["order.placed"] })
        }).then((r) => r.json() as Promise<{ readonly id?: string }>)
      )
      expect(created.id).toBeDefined()
      const kafka = yield* Layer.build(testKafka(`${prefix}-producer`))
      const events = Array.from({ length: 3 }, () => envelope(storeId))
      yield* publishEvents(topic, events).pipe(Effect.provide(kafka))
      const firsts = yield* Effect.forEach(events, () => nextRequest(receiver.received, "60 seconds"))
      const ids = firsts.map((r) => r.headers["x-ss3-delivery"] as string)

      dead.child.kill("SIGKILL")
      const killedAt = Date.now()
      const vault = Layer.effect(Vault, makeVaultLive({ endpoint: double.address, token: Redacted.make(double.token), mount: double.mount }))
      const next = yield* Layer.build(TestApp({
        eventTopics: new RegExp(`^${prefix}-kill\\.`),
        groupId: `${prefix}-kill-2`,
        database: migratedDbLive(url),
        vault
      }))
      const seconds = yield* Effect.forEach(ids, () => nextRequest(receiver.received, "15 seconds"))
      expect(seconds.map((r) => r.headers["x-ss3-delivery"]).sort()).toEqual([...ids].sort())
      expect(Date.now() - killedAt).toBeLessThan(15_000)
      for (const id of ids) {
        const row = yield* eventually(deliveryRow(id).pipe(Effect.provide(next)), (r) => r.status === "DELIVERED")
        expect(row.attempt_number).toBe(1)
        expect(yield* attemptRows(id).pipe(Effect.provide(next))).toHaveLength(1)
      }
    }), { timeout: 120_000 })
})
