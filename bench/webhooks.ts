/**
 * Webhook delivery benchmark: the whole service in-process, as `serve` assembles
 * it (MainLive: migrations, HTTP API, fan-out consumer, delivery workers with
 * their default options), on real PostgreSQL, a real Kafka broker and real
 * undici, with an in-memory Vault and WEBHOOK_ALLOW_INSECURE_TARGETS semantics,
 * delivering to a local receiver that runs in a separate process.
 *
 *   npm run bench:webhooks                     (or: npx tsx bench/webhooks.ts)
 *
 * Phases (each measured in the same run, because the box is noisy):
 *   1. ceiling     plain undici POSTs/s to the same receiver (same body size, same concurrency as the workers)
 *   2. throughput  a burst of BENCH_EVENTS events × BENCH_SUBSCRIPTIONS matching subscriptions, published
 *                  as fast as possible; rates in (publish, fan-out) and out (receiver, DELIVERED in the DB)
 *   3. latency     BENCH_RATE events/s for BENCH_RATE_SECONDS, each matching BENCH_LATENCY_FANOUT subscriptions;
 *                  publish → receiver latency percentiles, with a breakdown from the database timestamps
 *
 * Environment (all optional):
 *   DATABASE_URL            admin URL (default postgres://postgres@127.0.0.1:5432/postgres); a throwaway
 *                           database is_bench_<ts> is created in it and dropped at the end
 *   KAFKA_BROKERS           a broker to use; unset: one is started with KAFKA_PORT=19592 scripts/kafka-broker.sh
 *                           and stopped at the end (never 19092: CI's)
 *   BENCH_EVENTS            events in the burst (5000)
 *   BENCH_SUBSCRIPTIONS     subscriptions created (4); every one matches the burst's events
 *   BENCH_STORES            stores the subscriptions and events are spread over (1). Events are keyed by
 *                           store id, so one store = one Kafka partition
 *   BENCH_PARTITIONS        partitions of the event topic (3, the broker default)
 *   BENCH_RATE              steady publish rate, events/s (500)
 *   BENCH_RATE_SECONDS      length of the steady phase (10)
 *   BENCH_LATENCY_FANOUT    subscriptions per store matching a steady-phase event (1)
 *   BENCH_PAYLOAD_BYTES     padding in each event's data, bytes (256)
 *   BENCH_CEILING_SECONDS   (5)   BENCH_CEILING_CONCURRENCY (128)
 *   BENCH_PHASE_TIMEOUT     seconds a phase may take to drain before giving up (75)
 *   BENCH_MAX_SECONDS       the whole run is bounded by this (175); phases are cut short to leave time
 *                           for the report and the cleanup
 *   BENCH_SPANS             1 (default): aggregate the service's Effect spans (sql.execute per statement,
 *                           webhooks.fanOut, webhooks.attempt) per phase; 0: off
 */
import { HttpServer } from "@effect/platform"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { Kafka as KafkaJs, logLevel, Partitioners, type Producer } from "kafkajs"
import pg from "pg"
import { CryptoPrimitivesNode } from "../src/layers/CryptoPrimitivesNode.ts"
import { DbLive } from "../src/layers/DbLive.ts"
import { DnsLive } from "../src/layers/DnsLive.ts"
import { HttpOutLive } from "../src/layers/HttpOutLive.ts"
import { makeHttpServerNode } from "../src/layers/HttpServerNode.ts"
import { KafkaLive } from "../src/layers/KafkaLive.ts"
import { NotificationsPg } from "../src/layers/NotificationsPg.ts"
import { PasswordHasherFromConfig } from "../src/layers/PasswordHasherBcrypt.ts"
import { makeVaultTest } from "../src/layers/VaultTest.ts"
import { MainLive } from "../src/programs/main.ts"
import { AppConfig, type AppConfigShape } from "../src/services/AppConfig.ts"
import { Vault } from "../src/services/Vault.ts"
import { kafkaBroker } from "./support/broker.ts"
import { plainPosts } from "./support/ceiling.ts"
import { cpuSnapshot, cpuTable, cpuUsage, readCpuCount } from "./support/cpu.ts"
import { createDatabase, defaultAdminDatabaseUrl } from "./support/database.ts"
import { type Distribution, distribution, fmt, table } from "./support/report.ts"
import { type Receiver, type ReceiveRecord, startReceiver } from "./support/receiver.ts"
import {
  intEnv,
  onCleanup,
  progress,
  runBenchmark,
  runStartedAt as t0,
  sleep,
  sourceState,
  wallNow,
  withTimeout
} from "./support/run.ts"
import {
  commitsLine,
  instrumentKafkaConsumers,
  spanTable,
  StatsTracer,
  takeSpanStats
} from "./support/spanStats.ts"

// ---------------------------------------------------------------------------
// Settings

const settings = {
  adminDatabaseUrl: process.env["DATABASE_URL"] || defaultAdminDatabaseUrl,
  kafkaBrokers: process.env["KAFKA_BROKERS"] ?? "",
  events: intEnv("BENCH_EVENTS", 5000),
  subscriptions: Math.max(1, intEnv("BENCH_SUBSCRIPTIONS", 4)),
  stores: Math.max(1, intEnv("BENCH_STORES", 1)),
  partitions: Math.max(1, intEnv("BENCH_PARTITIONS", 3)),
  rate: intEnv("BENCH_RATE", 500),
  rateSeconds: intEnv("BENCH_RATE_SECONDS", 10),
  latencyFanout: Math.max(1, intEnv("BENCH_LATENCY_FANOUT", 1)),
  payloadBytes: intEnv("BENCH_PAYLOAD_BYTES", 256),
  ceilingSeconds: intEnv("BENCH_CEILING_SECONDS", 5),
  ceilingConcurrency: Math.max(1, intEnv("BENCH_CEILING_CONCURRENCY", 128)),
  phaseTimeoutMs: intEnv("BENCH_PHASE_TIMEOUT", 75) * 1000,
  spans: process.env["BENCH_SPANS"] !== "0"
}

/** The port of the broker this script starts (never 19092: CI uses it). */
const OWN_KAFKA_PORT = 19592
/** The whole run is cut short after this long (cleanup still runs). */
const RUN_DEADLINE_MS = intEnv("BENCH_MAX_SECONDS", 175) * 1000

const runId = Date.now()
const databaseName = `is_bench_${runId}`
const eventTopic = `bench.events.${runId}`
const adminToken = "bench-admin-token-0123456789abcdef"
const storeIds = Array.from({ length: settings.stores }, (_, i) => `bench-store-${i + 1}`)
const types = { warmup: "bench.warmup", burst: "bench.burst", steady: "bench.steady" } as const

// ---------------------------------------------------------------------------
// The service, assembled as `serve` does (src/cli/commands/serve.ts: MainLive + LiveInfra),
// with an in-memory Vault and fixed settings instead of VaultLive + AppConfigLive

const serviceConfig = (databaseUrl: string, brokers: ReadonlyArray<string>): AppConfigShape => ({
  mode: "live",
  port: 0,
  databaseUrl: Redacted.make(databaseUrl),
  kafka: {
    brokers,
    clientId: `is-bench-${runId}`,
    groupId: `is-bench-${runId}`,
    eventTopics: new RegExp(`^${eventTopic.replaceAll(".", "\\.")}$`),
    maxMessageBytes: 1_000_000
  },
  events: { maxBytes: 1024 * 1024, maxDepth: 64 },
  adminToken: Redacted.make(adminToken),
  otlpEndpoint: Option.none(),
  // WEBHOOK_TIMEOUT_MS default, WEBHOOK_ALLOW_INSECURE_TARGETS=true (the receiver is http://127.0.0.1)
  webhook: { timeoutMs: 10_000, allowInsecureTargets: true },
  // serve's defaults (CREDENTIAL_BCRYPT_COST, OAUTH_TOKEN_TTL_SECONDS); not used by webhook delivery
  credentials: { bcryptCost: 10, accessTokenTtlSeconds: 3600 },
  dataDir: ".data-bench"
})

const serviceLayer = (config: AppConfigShape) => {
  // LiveInfra (src/layers/Infra.ts) but for Vault, settings and telemetry; the HTTP server on a free port.
  const infra = Layer.mergeAll(
    NotificationsPg,
    KafkaLive,
    HttpOutLive,
    DnsLive,
    PasswordHasherFromConfig,
    CryptoPrimitivesNode,
    makeHttpServerNode(0, "127.0.0.1"),
    Layer.effect(Vault, makeVaultTest())
  ).pipe(Layer.provideMerge(DbLive), Layer.provideMerge(Layer.succeed(AppConfig, config)))
  // Warnings and errors only, on stderr: stdout is the report.
  const logs = Layer.merge(
    Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)),
    Logger.minimumLogLevel(LogLevel.Warning)
  )
  const observability = settings.spans ? Layer.merge(logs, StatsTracer) : logs
  return MainLive.pipe(Layer.provideMerge(infra), Layer.provide(observability))
}

// ---------------------------------------------------------------------------
// Events

const padding = "x".repeat(settings.payloadBytes)
let sequence = 0

const makeEvent = (eventType: string, storeId: string) => {
  const now = wallNow()
  return {
    key: storeId,
    value: JSON.stringify({
      eventId: randomUUID(),
      eventType,
      storeId,
      occurredAt: new Date(now).toISOString(),
      data: { sentAt: now, seq: ++sequence, pad: padding }
    })
  }
}

const publishBurst = async (producer: Producer, eventType: string, count: number) => {
  const chunk = 500
  const sends: Array<Promise<unknown>> = []
  for (let i = 0; i < count; i += chunk) {
    const messages = Array.from({ length: Math.min(chunk, count - i) }, (_, j) => makeEvent(eventType, storeIds[(i + j) % storeIds.length]!))
    sends.push(producer.send({ topic: eventTopic, acks: -1, messages }))
    // A few sends in flight at once, not all of them.
    if (sends.length >= 4) await sends.shift()
  }
  await Promise.all(sends)
}

/** `rate` events/s for `seconds`, in 5 ms ticks; each event is stamped with its send time. */
const publishSteady = async (producer: Producer, eventType: string, rate: number, seconds: number) => {
  const start = wallNow()
  const total = Math.round(rate * seconds)
  let sent = 0
  let storeIndex = 0
  const inFlight = new Set<Promise<unknown>>()
  while (sent < total) {
    const due = Math.min(total, Math.floor(((wallNow() - start) / 1000) * rate)) - sent
    if (due > 0) {
      const messages = Array.from({ length: due }, () => makeEvent(eventType, storeIds[storeIndex++ % storeIds.length]!))
      sent += due
      const send = producer.send({ topic: eventTopic, acks: -1, messages })
      inFlight.add(send)
      void send.finally(() => inFlight.delete(send))
    }
    await sleep(5)
  }
  await Promise.all(inFlight)
  return { sent, seconds: (wallNow() - start) / 1000 }
}

// ---------------------------------------------------------------------------
// Database observation (a separate connection, not the service's pool)

interface DeliveryRow {
  readonly delivery_id: string
  readonly status: string
  readonly attempt_number: number
  readonly sent: number | null
  readonly created: number
  readonly delivered: number | null
}

const deliveryRows = (db: pg.Client, eventType: string) =>
  db.query<DeliveryRow>(
    `SELECT delivery_id::text, status::text, attempt_number,
            (event_payload->'data'->>'sentAt')::float8 AS sent,
            (extract(epoch FROM created_at) * 1000)::float8 AS created,
            (extract(epoch FROM delivered_at) * 1000)::float8 AS delivered
     FROM webhook_deliveries WHERE event_type = $1`,
    [eventType]
  ).then((r) => r.rows)

const deliveryCounts = (db: pg.Client, eventType: string) =>
  db.query<{ created: number; delivered: number }>(
    `SELECT count(*)::int AS created, count(*) FILTER (WHERE status = 'DELIVERED')::int AS delivered
     FROM webhook_deliveries WHERE event_type = $1`,
    [eventType]
  ).then((r) => r.rows[0]!)

/**
 * Waits until `expected` deliveries of `eventType` are DELIVERED in the database
 * (or the phase times out), printing progress.
 */
const awaitDelivered = async (
  db: pg.Client,
  receiver: Receiver,
  eventType: string,
  expected: number,
  since: number
) => {
  // Never past the run's deadline: the report and the cleanup need their time too.
  const deadline = Math.min(wallNow() + settings.phaseTimeoutMs, t0 + RUN_DEADLINE_MS - 25_000)
  let lastPrint = 0
  let counts = { created: 0, delivered: 0 }
  for (;;) {
    const received = await receiver.stats()
    // Count in the database once the receiver is close, and every second while it is not.
    if (received.count >= expected || wallNow() - lastPrint >= 1000) {
      counts = await deliveryCounts(db, eventType)
    }
    if (wallNow() - lastPrint >= 1000) {
      lastPrint = wallNow()
      progress(
        `  +${((wallNow() - since) / 1000).toFixed(1)}s: deliveries created ${counts.created}/${expected}, ` +
          `received ${received.count}, DELIVERED in DB ${counts.delivered}`
      )
    }
    if (counts.delivered >= expected) return { complete: true, counts }
    if (wallNow() > deadline) {
      progress(`  phase timed out after ${fmt((wallNow() - since) / 1000, 1)} s`)
      return { complete: false, counts }
    }
    await sleep(received.count >= expected ? 50 : 200)
  }
}

// ---------------------------------------------------------------------------
// Phase 1: the ceiling

const ceiling = (url: string, body: Uint8Array) =>
  plainPosts({
    url,
    body,
    headers: { "x-ss3-event": types.burst, "x-ss3-signature": `sha256=${"0".repeat(64)}` },
    concurrency: settings.ceilingConcurrency,
    seconds: settings.ceilingSeconds
  })

// ---------------------------------------------------------------------------
// Report pieces


/** Timeline after publish start: deliveries created, received and DELIVERED per second, in at most ~15 buckets. */
const timeline = (rows: ReadonlyArray<DeliveryRow>, received: ReadonlyArray<ReceiveRecord>, since: number) => {
  const times = [...rows.flatMap((r) => [r.created, r.delivered ?? Number.NaN]), ...received.map((r) => r[2])]
    .filter((t) => Number.isFinite(t))
  const span = Math.max(1, (Math.max(...times) - since) / 1000)
  const width = Math.max(1, Math.ceil(span / 15))
  const count = Math.ceil(span / width)
  const buckets = Array.from({ length: count }, () => [0, 0, 0])
  const add = (at: number | null, index: 0 | 1 | 2) => {
    if (at === null || !Number.isFinite(at)) return
    const bucket = Math.min(count - 1, Math.max(0, Math.floor((at - since) / 1000 / width)))
    buckets[bucket]![index]!++
  }
  for (const row of rows) {
    add(row.created, 0)
    add(row.delivered, 2)
  }
  for (const r of received) add(r[2], 1)
  return table(
    ["seconds after publish start", "created/s", "received/s", "DELIVERED/s"],
    buckets.map((b, i) => [`${i * width}-${(i + 1) * width}`, fmt(b[0]! / width), fmt(b[1]! / width), fmt(b[2]! / width)])
  )
}

// ---------------------------------------------------------------------------
// Main

const main = async () => {
  const cpuCount = readCpuCount()
  const source = await sourceState()
  progress(
    `run ${runId}: ${settings.events} events × ${settings.subscriptions} subscriptions, ${settings.stores} store(s), ` +
      `steady ${settings.rate}/s for ${settings.rateSeconds} s; ${cpuCount} CPUs`
  )

  // Receiver, database and broker at once.
  const [receiver, databaseUrl, kafka] = await Promise.all([
    startReceiver(),
    createDatabase(settings.adminDatabaseUrl, databaseName),
    kafkaBroker(settings.kafkaBrokers, OWN_KAFKA_PORT)
  ])
  progress(`receiver ${receiver.url} (pid ${receiver.pid}); database ${databaseName}; Kafka ${kafka.brokers.join(",")}`)
  const brokerPid = kafka.pid

  // The event topic exists before the service subscribes (it would otherwise see it only after a refresh).
  const client = new KafkaJs({ clientId: `is-bench-publisher-${runId}`, brokers: kafka.brokers, logLevel: logLevel.ERROR })
  const admin = client.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: eventTopic, numPartitions: settings.partitions }], waitForLeaders: true })
  onCleanup("delete the event topic", async () => {
    if (!kafka.started) await admin.deleteTopics({ topics: [eventTopic] }).catch(() => undefined)
    await admin.disconnect()
  })
  const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  onCleanup("publisher", () => producer.disconnect())

  // The service.
  if (settings.spans) instrumentKafkaConsumers()
  const config = serviceConfig(databaseUrl, kafka.brokers)
  const runtime = ManagedRuntime.make(serviceLayer(config))
  onCleanup("stop the service", () => runtime.dispose())
  const started = wallNow()
  await withTimeout("service start", 90_000, runtime.runtime())
  const baseUrl = await runtime.runPromise(HttpServer.addressFormattedWith((address) => Effect.succeed(address)))
  progress(`service up in ${((wallNow() - started) / 1000).toFixed(1)} s at ${baseUrl}`)

  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  onCleanup("observer connection", () => db.end())

  // Subscriptions through the admin API. Subscription i of a store matches the
  // warm-up and burst events; the first BENCH_LATENCY_FANOUT also the steady ones.
  const subscriptionsPerStore = Math.max(1, Math.floor(settings.subscriptions / settings.stores))
  for (const storeId of storeIds) {
    for (let i = 0; i < subscriptionsPerStore; i++) {
      const events = [types.warmup, types.burst, ...(i < settings.latencyFanout ? [types.steady] : [])]
      const res = await fetch(`${baseUrl}/stores/${storeId}/webhooks`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `bench ${i + 1}`, targetUrl: `${receiver.url}/hooks/${storeId}/${i + 1}`, events })
      })
      if (res.status !== 201) throw new Error(`creating a subscription: HTTP ${res.status} ${await res.text()}`)
    }
  }
  const burstFanout = subscriptionsPerStore
  const steadyFanout = Math.min(settings.latencyFanout, subscriptionsPerStore)
  progress(`${subscriptionsPerStore * storeIds.length} subscriptions created`)

  // Warm-up: connections, JIT, signing-key cache.
  const warmupEvents = 50
  await publishBurst(producer, types.warmup, warmupEvents)
  await awaitDelivered(db, receiver, types.warmup, warmupEvents * burstFanout, wallNow())
  await sleep(1500) // the outbox relay and the statistics collector catch up
  await receiver.reset()

  // ---- 1. ceiling
  const sampleBody = new TextEncoder().encode(makeEvent(types.burst, storeIds[0]!).value)
  progress(`ceiling: plain undici POSTs (${sampleBody.byteLength}-byte body, concurrency ${settings.ceilingConcurrency}) for ${settings.ceilingSeconds} s`)
  const ceilingCpu0 = cpuSnapshot()
  const top = await ceiling(`${receiver.url}/ceiling`, sampleBody)
  const ceilingCpu = cpuSnapshot()
  await receiver.reset()
  progress(`ceiling: ${fmt(top.rate)} requests/s (${top.errors} errors)`)

  const groupOf = (pid: number, comm: string) =>
    pid === process.pid
      ? "service + bench (node)"
      : pid === receiver.pid
      ? "receiver (node)"
      : comm === "postgres"
      ? "postgres (all backends)"
      : brokerPid !== undefined && pid === brokerPid
      ? "kafka broker (java)"
      : `other: ${comm}`

  // ---- 2. throughput
  const expected = settings.events * burstFanout
  takeSpanStats()
  const elu0 = performance.eventLoopUtilization()
  const cpu0 = cpuSnapshot()
  progress(`throughput: publishing ${settings.events} events (${expected} deliveries)`)
  const publishStart = wallNow()
  await publishBurst(producer, types.burst, settings.events)
  const publishEnd = wallNow()
  progress(`  published in ${fmt(publishEnd - publishStart)} ms`)
  const burst = await awaitDelivered(db, receiver, types.burst, expected, publishStart)
  const burstDone = wallNow()
  const cpu1 = cpuSnapshot()
  const elu1 = performance.eventLoopUtilization(elu0)
  const burstSpans = takeSpanStats()
  const burstReceived = await receiver.take()
  const burstRows = await deliveryRows(db, types.burst)
  const statuses = await db.query<{ status: string; n: number }>(
    "SELECT status::text, count(*)::int AS n FROM webhook_deliveries WHERE event_type = $1 GROUP BY 1 ORDER BY 1",
    [types.burst]
  )
  const attempts = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_delivery_attempts a JOIN webhook_deliveries d USING (delivery_id)
     WHERE d.event_type = $1`,
    [types.burst]
  )
  const outboxLeft = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM kafka_outbox")

  const createdTimes = burstRows.map((r) => r.created)
  const deliveredTimes = burstRows.flatMap((r) => (r.delivered === null ? [] : [r.delivered]))
  const lastCreated = Math.max(...createdTimes)
  const firstCreated = Math.min(...createdTimes)
  const lastDelivered = deliveredTimes.length ? Math.max(...deliveredTimes) : Number.NaN
  const receivedTimes = burstReceived.map((r) => r[2])
  const firstReceived = Math.min(...receivedTimes)
  const lastReceived = Math.max(...receivedTimes)
  const uniqueReceived = new Set(burstReceived.map((r) => r[0])).size
  const delivered = statuses.rows.find((r) => r.status === "DELIVERED")?.n ?? 0
  const throughput = {
    publishRate: settings.events / ((publishEnd - publishStart) / 1000),
    fanoutSeconds: (lastCreated - publishStart) / 1000,
    fanoutEventsRate: settings.events / ((lastCreated - publishStart) / 1000),
    fanoutRowsRate: burstRows.length / ((lastCreated - publishStart) / 1000),
    fanoutRowsRateWindow: burstRows.length / ((lastCreated - firstCreated) / 1000),
    receiveRate: burstReceived.length / ((lastReceived - firstReceived) / 1000),
    endToEndSeconds: (lastDelivered - publishStart) / 1000,
    endToEndRate: delivered / ((lastDelivered - publishStart) / 1000)
  }

  // ---- 3. latency at a steady rate
  await sleep(500)
  await receiver.reset()
  takeSpanStats()
  const lelu0 = performance.eventLoopUtilization()
  const lcpu0 = cpuSnapshot()
  progress(`latency: ${settings.rate} events/s for ${settings.rateSeconds} s (${steadyFanout} subscription(s) per event)`)
  const steadyStart = wallNow()
  const steady = await publishSteady(producer, types.steady, settings.rate, settings.rateSeconds)
  const steadyExpected = steady.sent * steadyFanout
  const steadyWait = await awaitDelivered(db, receiver, types.steady, steadyExpected, steadyStart)
  const lcpu1 = cpuSnapshot()
  const lelu1 = performance.eventLoopUtilization(lelu0)
  const steadySpans = takeSpanStats()
  const steadyReceived = await receiver.take()
  const steadyRows = await deliveryRows(db, types.steady)

  const firstReceive = new Map<string, number>()
  for (const [id, , at] of steadyReceived) if (!firstReceive.has(id)) firstReceive.set(id, at)
  const endToEnd = distribution(steadyReceived.map(([, sent, at]) => at - sent))
  const kafkaToRow = distribution(steadyRows.map((r) => (r.sent === null ? Number.NaN : r.created - r.sent)))
  const rowToReceive = distribution(steadyRows.map((r) => (firstReceive.get(r.delivery_id) ?? Number.NaN) - r.created))
  const receiveToRecorded = distribution(
    steadyRows.map((r) => (r.delivered === null ? Number.NaN : r.delivered - (firstReceive.get(r.delivery_id) ?? Number.NaN)))
  )
  const steadyDelivered = steadyRows.filter((r) => r.status === "DELIVERED").length
  const steadyLastDelivered = Math.max(...steadyRows.map((r) => r.delivered ?? Number.NaN).filter((t) => Number.isFinite(t)))
  const steadyLastSent = Math.max(...steadyRows.map((r) => r.sent ?? Number.NaN).filter((t) => Number.isFinite(t)))
  const steadyCreatedRate = steadyRows.length / ((Math.max(...steadyRows.map((r) => r.created)) - steadyStart) / 1000)

  // ---- report (stdout)
  const out: Array<string> = []
  const say = (line = "") => out.push(line)
  say()
  say(`== webhook delivery benchmark (run ${runId}, source ${source}, ${cpuCount} CPUs, Node ${process.version}) ==`)
  say(
    `service: MainLive (serve's wiring: default worker options, concurrency 128, pool 10) on PostgreSQL ${databaseName}, ` +
      `Kafka ${kafka.brokers.join(",")}${kafka.started ? " (started by the bench)" : ""}, topic ${eventTopic} (${settings.partitions} partitions), ` +
      `${storeIds.length} store(s), ${subscriptionsPerStore * storeIds.length} subscriptions, body ${sampleBody.byteLength} bytes`
  )
  say()
  say("-- 1. ceiling: plain undici POSTs to the same receiver")
  say(
    `${fmt(top.requests)} requests in ${fmt(top.seconds, 2)} s at concurrency ${settings.ceilingConcurrency}: ${fmt(top.rate)} requests/s, ` +
      `latency p50 ${fmt(top.latency.p50, 1)} ms, p99 ${fmt(top.latency.p99, 1)} ms, ${top.errors} errors`
  )
  say(cpuTable(cpuUsage(ceilingCpu0, ceilingCpu, groupOf)))
  say()
  say(`-- 2. throughput: ${settings.events} events × ${burstFanout} subscriptions = ${expected} deliveries`)
  say(`published in ${fmt(publishEnd - publishStart)} ms: ${fmt(throughput.publishRate)} events/s`)
  say(
    `fan-out: ${fmt(burstRows.length)} deliveries created by +${fmt(throughput.fanoutSeconds, 2)} s: ` +
      `${fmt(throughput.fanoutEventsRate)} events/s, ${fmt(throughput.fanoutRowsRate)} deliveries/s ` +
      `(${fmt(throughput.fanoutRowsRateWindow)}/s between first and last row)`
  )
  say(
    `receiver: ${fmt(burstReceived.length)} requests (${fmt(uniqueReceived)} distinct deliveries) in ` +
      `${fmt((lastReceived - firstReceived) / 1000, 2)} s: ${fmt(throughput.receiveRate)} deliveries/s`
  )
  say(
    `all DELIVERED in the database by +${fmt(throughput.endToEndSeconds, 2)} s after publish start: ` +
      `${fmt(throughput.endToEndRate)} deliveries/s end to end${burst.complete ? "" : " (INCOMPLETE: timed out)"}`
  )
  say(
    `database state: ${statuses.rows.map((r) => `${r.status} ${r.n}`).join(", ")}; attempts ${attempts.rows[0]?.n}; ` +
      `outbox left ${outboxLeft.rows[0]?.n} → ${delivered === expected ? "every delivery DELIVERED" : `MISSING ${expected - delivered}`}`
  )
  if (settings.spans) say(commitsLine(burstSpans, expected))
  say(`event loop of the service process: ${fmt(elu1.utilization * 100)} % busy over the phase`)
  say(cpuTable(cpuUsage(cpu0, cpu1, groupOf)))
  say()
  say("timeline (seconds after publish start):")
  say(timeline(burstRows, burstReceived, publishStart))
  if (settings.spans) {
    say()
    say(spanTable(burstSpans, (burstDone - publishStart) / 1000, expected))
  }
  say()
  say(
    `-- 3. latency: ${fmt(steady.sent)} events at ${fmt(steady.sent / steady.seconds)} events/s over ${fmt(steady.seconds, 1)} s, ` +
      `${steadyFanout} subscription(s) each → ${fmt(steadyExpected)} deliveries, ${fmt(steadyDelivered)} DELIVERED` +
      `${steadyWait.complete ? "" : " (INCOMPLETE: timed out)"}`
  )
  const latencyRow = (name: string, d: Distribution) => [name, fmt(d.n), fmt(d.p50, 1), fmt(d.p90, 1), fmt(d.p99, 1), fmt(d.max, 1), fmt(d.mean, 1)]
  say(
    `kept up: ${steadyLastDelivered - steadyLastSent < 1000 ? "yes" : "NO"}: the last delivery was DELIVERED ` +
      `${fmt((steadyLastDelivered - steadyLastSent) / 1000, 2)} s after the last publish; ` +
      `deliveries created at ${fmt(steadyCreatedRate)}/s on average over the phase`
  )
  say(table(["ms", "n", "p50", "p90", "p99", "max", "mean"], [
    latencyRow("publish → received (end to end)", endToEnd),
    latencyRow("  publish → delivery row (Kafka, fan-out)", kafkaToRow),
    latencyRow("  delivery row → received (claim, attempt)", rowToReceive),
    latencyRow("  received → recorded DELIVERED", receiveToRecorded)
  ]))
  if (settings.spans) say(commitsLine(steadySpans, steadyExpected))
  say(`event loop of the service process: ${fmt(lelu1.utilization * 100)} % busy over the phase`)
  say(cpuTable(cpuUsage(lcpu0, lcpu1, groupOf)))
  if (settings.spans) {
    say()
    say(spanTable(steadySpans, (wallNow() - steadyStart) / 1000, steadyExpected))
  }
  say()
  say("== summary ==")
  say(table(["measure", "value"], [
    ["ceiling: plain undici POSTs/s", fmt(top.rate)],
    ["burst publish rate, events/s", fmt(throughput.publishRate)],
    ["fan-out, events/s", fmt(throughput.fanoutEventsRate)],
    ["fan-out, deliveries created/s", fmt(throughput.fanoutRowsRate)],
    ["deliveries/s at the receiver (first → last)", fmt(throughput.receiveRate)],
    ["deliveries/s end to end (publish → all DELIVERED in DB)", fmt(throughput.endToEndRate)],
    ["end-to-end deliveries/s ÷ ceiling", `${fmt((throughput.endToEndRate / top.rate) * 100, 1)} %`],
    ["receiver deliveries/s ÷ ceiling", `${fmt((throughput.receiveRate / top.rate) * 100, 1)} %`],
    ["burst: DELIVERED / expected", `${fmt(delivered)} / ${fmt(expected)}`],
    [`latency at ${settings.rate}/s: p50 / p90 / p99 / max, ms`, `${fmt(endToEnd.p50, 1)} / ${fmt(endToEnd.p90, 1)} / ${fmt(endToEnd.p99, 1)} / ${fmt(endToEnd.max, 1)}`],
    ["steady: DELIVERED / expected", `${fmt(steadyDelivered)} / ${fmt(steadyExpected)}`]
  ]))
  say()
  const overrides = [
    ["BENCH_EVENTS", 5000],
    ["BENCH_SUBSCRIPTIONS", 4],
    ["BENCH_STORES", 1],
    ["BENCH_PARTITIONS", 3],
    ["BENCH_RATE", 500],
    ["BENCH_RATE_SECONDS", 10],
    ["BENCH_LATENCY_FANOUT", 1],
    ["BENCH_PAYLOAD_BYTES", 256]
  ].filter(([name, dflt]) => process.env[name as string] !== undefined && Number(process.env[name as string]) !== dflt)
    .map(([name]) => `${name}=${process.env[name as string]}`)
  const envPrefix = [
    ...(process.env["DATABASE_URL"] ? ["DATABASE_URL=…"] : []),
    ...(settings.kafkaBrokers ? [`KAFKA_BROKERS=${settings.kafkaBrokers}`] : []),
    ...overrides
  ].join(" ")
  say(`rerun: ${envPrefix ? `${envPrefix} ` : ""}npm run bench:webhooks   (or: npx tsx bench/webhooks.ts)`)
  process.stdout.write(`${out.join("\n")}\n`)
}
runBenchmark(main, RUN_DEADLINE_MS)
