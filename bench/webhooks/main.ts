/**
 * Webhook delivery benchmark: the whole service in-process, as `serve` assembles
 * it (MainLive: migrations, HTTP API, fan-out consumer, delivery workers with
 * their default options), on real PostgreSQL, a real Kafka broker and real
 * undici, with an in-memory Vault and WEBHOOK_ALLOW_INSECURE_TARGETS semantics,
 * delivering to a local receiver that runs in a separate process.
 *
 *   npm run bench:webhooks                     (or: npx tsx bench/webhooks/main.ts)
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
 *   KAFKA_BROKERS           a broker to use; unset: one is started with KAFKA_PORT=$BENCH_KAFKA_PORT
 *                           scripts/kafka-broker.sh and stopped at the end
 *   BENCH_KAFKA_PORT        the port of the broker the bench starts (19592; never 19092: CI's)
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
 *
 * Layout: settings.ts (this environment), service.ts (MainLive and its infrastructure), events.ts
 * (publishing), observe.ts (the database seen from the bench), phases.ts (the three phases),
 * report.ts (stdout); the helpers shared with the other benchmarks are in ../support.
 */
import { HttpServer } from "@effect/platform"
import { Effect, ManagedRuntime } from "effect"
import { Kafka as KafkaJs, logLevel, Partitioners } from "kafkajs"
import pg from "pg"
import { kafkaBroker } from "../support/broker.ts"
import { readCpuCount } from "../support/cpu.ts"
import { createDatabase } from "../support/database.ts"
import { startReceiver } from "../support/receiver.ts"
import { onCleanup, progress, runBenchmark, sleep, sourceState, wallNow, withTimeout } from "../support/run.ts"
import { instrumentKafkaConsumers } from "../support/spanStats.ts"
import { publishBurst } from "./events.ts"
import { awaitDelivered } from "./observe.ts"
import { ceilingPhase, latencyPhase, type Rig, throughputPhase } from "./phases.ts"
import { writeReport } from "./report.ts"
import { serviceConfig, serviceLayer } from "./service.ts"
import {
  adminToken,
  databaseName,
  eventTopic,
  OWN_KAFKA_PORT,
  RUN_DEADLINE_MS,
  runId,
  settings,
  storeIds,
  types
} from "./settings.ts"

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
  const rig: Rig = { producer, db, receiver }

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

  const ceiling = await ceilingPhase(rig)
  const burst = await throughputPhase(rig, burstFanout)
  const steady = await latencyPhase(rig, steadyFanout)

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
  writeReport(
    {
      source,
      cpuCount,
      brokers: kafka.brokers,
      startedBroker: kafka.started,
      subscriptions: subscriptionsPerStore * storeIds.length,
      groupOf
    },
    ceiling,
    burst,
    steady
  )
}
runBenchmark(main, RUN_DEADLINE_MS)
