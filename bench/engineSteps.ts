/**
 * The delivery engine's own cost per webhook attempt: the engine as the service
 * runs it (makeDeliveryEngine with the webhook lane: claims, the endpoint gate,
 * workers, signing, the result writer, the claimers' wake-ups) over a store and
 * an HTTP client that cost nothing (each request answers 200 on the next turn of
 * the event loop), beside its ceiling measured in the same run: the same
 * attempts — the same signatures, headers and results, 64 at once — in a plain
 * loop with no engine. The difference is what the engine's steps cost on top of
 * the attempt's own work.
 *
 *   npm run bench:engine     (BENCH_ATTEMPTS per round, default 200000; BENCH_ROUNDS, default 3)
 *
 * CPU is the process's (process.cpuUsage: its main thread and the collector's).
 * tsx keeps function names (a helper call per closure made), so both sides run
 * somewhat slower than the built service; compare them with each other.
 */
import { Deferred, Effect, Layer, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { cryptoPrimitivesNode, CryptoPrimitivesNode } from "../src/layers/CryptoPrimitivesNode.ts"
import { makeVaultTest } from "../src/layers/VaultTest.ts"
import { signingKeysOf, ss3Signature, standardSignature } from "../src/domain/webhooks/signing.ts"
import { DeliveryLanes } from "../src/programs/delivery/DeliveryLane.ts"
import { makeDeliveryEngine } from "../src/programs/delivery/DeliveryEngine.ts"
import { DeliverySignalsLive } from "../src/programs/delivery/DeliverySignals.ts"
import { SigningSecrets } from "../src/programs/webhooks/SigningSecrets.ts"
import { makeWebhookLane } from "../src/programs/webhooks/WebhookLane.ts"
import { AppConfig, type AppConfigShape } from "../src/services/AppConfig.ts"
import { type AttemptResult, type ClaimedDelivery, DeliveryStore, type DeliveryStoreShape } from "../src/services/DeliveryStore.ts"
import { HttpOut, type OutboundResponse } from "../src/services/HttpOut.ts"
import { Kafka, type KafkaShape } from "../src/services/Kafka.ts"
import { Vault } from "../src/services/Vault.ts"
import { deliveredResult } from "./support/deliveredResult.ts"
import { intEnv } from "./support/run.ts"

const attempts = intEnv("BENCH_ATTEMPTS", 200_000)
const rounds = intEnv("BENCH_ROUNDS", 3)
const maxInFlight = 64
const subscriptionId = randomUUID()
const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`
const body = JSON.stringify({
  eventId: randomUUID(),
  eventType: "order.placed",
  storeId: "store-1",
  occurredAt: new Date().toISOString(),
  data: { pad: "x".repeat(256) }
})

const delivery = (): ClaimedDelivery => ({
  delivery_id: randomUUID(),
  lane: "webhook",
  subscription_id: subscriptionId,
  config_id: null,
  store_id: "store-1",
  event_type: "order.placed",
  attempt_number: 0,
  cycle_attempts: 0,
  replay: false,
  occurred_at: new Date().toISOString(),
  body,
  target_url: "http://127.0.0.1:9/hook",
  secret_version: 1,
  previous_secret_active: false,
  probe: false,
  payload_bytes: body.length,
  max_in_flight: maxInFlight
})

const answered: OutboundResponse = { status: 200, headers: {}, body: "", truncated: false, durationMs: 0 }
/** A request that answers 200 on the event loop's next turn, as a local receiver would, minus the socket. */
const nextTurn = <A>(value: A) => Effect.async<A>((resume) => void setImmediate(() => resume(Effect.succeed(value))))

const unused = (what: string) => Effect.dieMessage(`${what}: not used by this benchmark`)

/** A store that hands out `attempts` deliveries to claims and records whatever it is given. */
const storeOf = (done: Deferred.Deferred<void>): DeliveryStoreShape => {
  let handed = 0
  let recorded = 0
  return {
    claim: (options) =>
      Effect.sync(() => {
        const n = Math.max(0, Math.min(options.limit, attempts - handed))
        handed += n
        return Array.from({ length: n }, delivery)
      }),
    anyDue: () => Effect.sync(() => handed < attempts),
    recordWebhookAttempts: (results) =>
      Effect.suspend(() => {
        recorded += results.length
        return Effect.as(recorded >= attempts ? Deferred.succeed(done, undefined) : Effect.void, {
          recorded: results,
          changes: { disabled: [], failing: [], breakers: [] }
        })
      }),
    renewLeases: (ids) => Effect.succeed(ids.length),
    releaseLeases: (ids) => Effect.succeed(ids.length),
    releaseExpiredLeases: Effect.succeed(0),
    relayOutbox: () => Effect.succeed({ taken: 0, setAside: [], more: false }),
    tableUpkeep: Effect.succeed({ serverDoesIt: true, vacuumed: [], analyzed: [] }),
    record: () => unused("record"),
    createForEvents: () => unused("createForEvents"),
    disableAnnounced: () => unused("disableAnnounced"),
    webhookBacklog: () => unused("webhookBacklog"),
    enqueueOutbox: () => unused("enqueueOutbox"),
    quarantine: () => unused("quarantine"),
    listQuarantined: () => unused("listQuarantined"),
    listSetAside: () => unused("listSetAside")
  }
}

const config = {
  mode: "dev",
  port: 0,
  databaseUrl: Redacted.make("postgres://unused"),
  kafka: { brokers: [], clientId: "bench", groupId: "bench", eventTopics: /^$/, maxMessageBytes: 1024 * 1024 },
  events: { maxBytes: 1024 * 1024, maxDepth: 64 },
  adminToken: Redacted.make("x".repeat(40)),
  otlpEndpoint: Option.none(),
  webhook: { timeoutMs: 10_000, allowInsecureTargets: true },
  credentials: { bcryptCost: 4, accessTokenTtlSeconds: 3600 },
  dataDir: "/tmp"
} satisfies AppConfigShape

const cpuMicros = <A>(run: () => Promise<A>) => async () => {
  const before = process.cpuUsage()
  await run()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / attempts
}

/** The engine, as the service starts it, until every delivery's result is recorded. */
const viaEngine = cpuMicros(() => {
  const program = Effect.gen(function*() {
    const done = yield* Deferred.make<void>()
    const vault = Layer.effect(Vault, makeVaultTest([[`integration-service/webhook/${subscriptionId}`, { secret: Redacted.make(secret) }]]))
    const services = Layer.mergeAll(
      Layer.succeed(DeliveryStore, storeOf(done)),
      Layer.succeed(HttpOut, { request: () => nextTurn(answered) }),
      Layer.succeed(AppConfig, config),
      Layer.succeed(Kafka, {} as KafkaShape),
      CryptoPrimitivesNode,
      DeliverySignalsLive,
      SigningSecrets.Default.pipe(Layer.provide(vault))
    )
    const lanes = Layer.effect(DeliveryLanes, Effect.map(makeWebhookLane, (lane) => [lane]))
    yield* Effect.scoped(Effect.zipRight(makeDeliveryEngine, Deferred.await(done))).pipe(
      Effect.provide(Layer.provideMerge(lanes, services))
    )
  })
  // As the service runs without an OTLP endpoint (Telemetry.ts).
  return Effect.runPromise(program.pipe(Effect.withTracerEnabled(false)))
})

/** The ceiling's request: answered as the engine's are, on the event loop's next turn. */
const send = (_headers: Record<string, string>) =>
  new Promise<OutboundResponse>((resolve) => setImmediate(() => resolve(answered)))

/** The same attempts' own work with no engine: sign, build the request and the result, `maxInFlight` at once. */
const ceiling = cpuMicros(async () => {
  const keys = signingKeysOf(secret)
  const hmac = cryptoPrimitivesNode.hmacSha256
  const results: Array<AttemptResult> = []
  let next = 0
  const worker = async () => {
    while (next++ < attempts) {
      const d = delivery()
      const started = Date.now()
      const bytes = new TextEncoder().encode(d.body)
      const timestamp = Math.floor(started / 1000)
      const headers = {
        "content-type": "application/json",
        "x-ss3-delivery": d.delivery_id,
        "x-ss3-signature": ss3Signature(hmac, keys, bytes),
        "webhook-id": d.delivery_id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": standardSignature(hmac, keys, d.delivery_id, timestamp, bytes)
      }
      const response = await send(headers)
      results.push(deliveredResult(d, new Date(started), response.durationMs))
      if (results.length >= 500) results.length = 0
    }
  }
  await Promise.all(Array.from({ length: maxInFlight }, worker))
})

console.log(`engine steps: ${attempts.toLocaleString("en-US")} webhook attempts per round, ${maxInFlight} at once, Node ${process.version}`)
for (let round = 1; round <= rounds; round++) {
  const engine = await viaEngine()
  const plain = await ceiling()
  console.log(
    `round ${round}: the engine ${engine.toFixed(1)} µs of CPU per attempt, the same attempts without it ${plain.toFixed(1)} µs: ` +
      `the engine's steps ${(engine - plain).toFixed(1)} µs`
  )
}
