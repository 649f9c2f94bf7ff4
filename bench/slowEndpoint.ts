/**
 * One slow endpoint beside fast ones: the fast subscriptions' publish → receiver
 * latency (p50, p99) without the slow one, with it (its in-flight limit at the
 * default 10), and with its limit lifted to 1000 (as if there were none). The
 * whole service in-process as `serve` assembles it (MainLive, default engine
 * settings: 128 webhook workers), on real PostgreSQL and a real Kafka broker;
 * the fast receiver runs in a process of its own, the slow one (answers after
 * BENCH_SLOW_MS) in this one.
 *
 *   npx tsx bench/slowEndpoint.ts
 *
 * Environment (all optional): DATABASE_URL (admin URL), KAFKA_BROKERS (else a broker is
 * started on KAFKA_PORT, default 19592), BENCH_FAST_STORES (4), BENCH_RATE fast events/s (50),
 * BENCH_SLOW_RATE slow events/s (30), BENCH_SECONDS per phase (10), BENCH_SLOW_MS (10000).
 */
import { HttpServer } from "@effect/platform"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Kafka as KafkaJs, logLevel, Partitioners, type Producer } from "kafkajs"
import { randomUUID } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { KafkaLive } from "../src/layers/KafkaLive.ts"
import { MainLive } from "../src/programs/main.ts"
import type { AppConfigShape } from "../src/services/AppConfig.ts"
import { kafkaBroker } from "./support/broker.ts"
import { createDatabase, defaultAdminDatabaseUrl } from "./support/database.ts"
import { distribution, fmt, table } from "./support/report.ts"
import { startReceiver } from "./support/receiver.ts"
import { benchServiceConfig, inProcessInfra, warningLogs } from "./support/service.ts"
import { intEnv, onCleanup, progress, runBenchmark, sleep, wallNow, withTimeout } from "./support/run.ts"

const settings = {
  adminDatabaseUrl: process.env["DATABASE_URL"] || defaultAdminDatabaseUrl,
  kafkaBrokers: process.env["KAFKA_BROKERS"] ?? "",
  kafkaPort: intEnv("KAFKA_PORT", 19592),
  fastStores: Math.max(1, intEnv("BENCH_FAST_STORES", 4)),
  rate: intEnv("BENCH_RATE", 50),
  slowRate: intEnv("BENCH_SLOW_RATE", 30),
  seconds: intEnv("BENCH_SECONDS", 10),
  slowMs: intEnv("BENCH_SLOW_MS", 10_000)
}

const runId = Date.now()
const topic = `bench.slow.${runId}`
const adminToken = "bench-admin-token-0123456789abcdef"
const fastStores = Array.from({ length: settings.fastStores }, (_, i) => `fast-${i + 1}`)
const slowStore = "slow-1"

const config = (databaseUrl: string, brokers: ReadonlyArray<string>): AppConfigShape =>
  benchServiceConfig({
    databaseUrl,
    brokers,
    clientId: `is-bench-${runId}`,
    eventTopics: new RegExp(`^${topic.replaceAll(".", "\\.")}$`),
    adminToken,
    // A little over the slow receiver's answer time, so its attempts succeed (slowly).
    webhookTimeoutMs: settings.slowMs + 5000
  })

const serviceLayer = (c: AppConfigShape) =>
  MainLive.pipe(Layer.provideMerge(inProcessInfra(c, KafkaLive)), Layer.provide(warningLogs))

/** A receiver that answers every request after `slowMs`, counting what it holds at once. */
const startSlowReceiver = async () => {
  let open = 0
  let maxOpen = 0
  const server = createServer((req, res) => {
    req.resume()
    maxOpen = Math.max(maxOpen, ++open)
    setTimeout(() => {
      open--
      res.end("ok")
    }, settings.slowMs)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  onCleanup("slow receiver", () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxOpen: () => maxOpen, resetMax: () => void (maxOpen = open) }
}

const event = (storeId: string) => ({
  key: storeId,
  value: JSON.stringify({
    eventId: randomUUID(),
    eventType: "order.placed",
    storeId,
    occurredAt: new Date().toISOString(),
    data: { sentAt: wallNow() }
  })
})

/** Fast events at `rate`/s over the fast stores, plus slow ones at `slowRate`/s, for `seconds`; returns the fast count. */
const publish = async (producer: Producer, slowRate: number) => {
  const start = wallNow()
  let fast = 0
  let slow = 0
  const totalFast = settings.rate * settings.seconds
  while (fast < totalFast) {
    const elapsed = (wallNow() - start) / 1000
    const messages = []
    for (; fast < Math.min(totalFast, Math.floor(elapsed * settings.rate)); fast++) messages.push(event(fastStores[fast % fastStores.length]!))
    for (; slow < Math.floor(elapsed * slowRate); slow++) messages.push(event(slowStore))
    if (messages.length > 0) await producer.send({ topic, acks: -1, messages })
    await sleep(5)
  }
  return fast
}

const main = async () => {
  const databaseUrl = await createDatabase(settings.adminDatabaseUrl, `is_bench_slow_${runId}`)
  const broker = await kafkaBroker(settings.kafkaBrokers, settings.kafkaPort)
  const fastReceiver = await startReceiver()
  const slowReceiver = await startSlowReceiver()

  const runtime = ManagedRuntime.make(serviceLayer(config(databaseUrl, broker.brokers)))
  onCleanup("stop the service", () => runtime.dispose())
  await withTimeout("service start", 90_000, runtime.runtime())
  const baseUrl = await runtime.runPromise(HttpServer.addressFormattedWith((address) => Effect.succeed(address)))
  const api = (path: string, method: string, body: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    }).then(async (r) => {
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`)
      return r.json() as Promise<any>
    })
  for (const storeId of fastStores) {
    await api(`/stores/${storeId}/webhooks`, "POST", { name: "fast", targetUrl: `${fastReceiver.url}/hook`, events: ["*"] })
  }

  const kafka = new KafkaJs({ clientId: `bench-producer-${runId}`, brokers: broker.brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  onCleanup("producer", () => producer.disconnect())
  await kafka.admin().createTopics({ topics: [{ topic, numPartitions: 3 }] }).catch(() => undefined)

  // Warm-up: one event at a time until one arrives (the consumer has joined), then a quiet moment.
  progress("warming up")
  await fastReceiver.reset()
  const warmUntil = wallNow() + 90_000
  while ((await fastReceiver.stats()).count === 0 && wallNow() < warmUntil) {
    await producer.send({ topic, acks: -1, messages: [event(fastStores[0]!)] })
    await sleep(500)
  }
  await sleep(3000)

  /** A phase: its fast events' latencies only (sent after it began), once they have all arrived. */
  const phase = async (name: string, slowRate: number) => {
    progress(name)
    await fastReceiver.reset()
    slowReceiver.resetMax()
    const began = wallNow()
    const sent = await publish(producer, slowRate)
    const deadline = wallNow() + 120_000
    const records: Array<[string, number, number]> = []
    while (records.length < sent && wallNow() < deadline) {
      await sleep(250)
      records.push(...(await fastReceiver.take()).filter(([, sentAt]) => sentAt >= began))
    }
    const latencies = records.map(([, sentAt, receivedAt]) => receivedAt - sentAt)
    return { name, sent, received: records.length, latency: distribution(latencies), slowHeld: slowReceiver.maxOpen() }
  }

  // A first phase alone to warm up (JIT, pools), not reported.
  await phase("warm-up phase (not reported)", 0)
  const results = [await phase("fast endpoints alone", 0)]
  const slow = await api(`/stores/${slowStore}/webhooks`, "POST", { name: "slow", targetUrl: `${slowReceiver.url}/hook`, events: ["*"] })
  results.push(await phase(`with a ${settings.slowMs / 1000} s endpoint (maxInFlight 10)`, settings.slowRate))
  await api(`/stores/${slowStore}/webhooks/${slow.id}`, "PATCH", { maxInFlight: 1000 })
  results.push(await phase(`with a ${settings.slowMs / 1000} s endpoint (maxInFlight 1000: no limit)`, settings.slowRate))

  console.log(`\nfast: ${settings.rate} events/s over ${settings.fastStores} subscriptions for ${settings.seconds} s per phase; ` +
    `slow: ${settings.slowRate} events/s, answering after ${settings.slowMs} ms; 128 webhook workers\n`)
  console.log(table(
    ["phase", "fast sent", "fast received", "p50 ms", "p99 ms", "max ms", "slow requests open at once"],
    results.map((r) => [r.name, String(r.sent), String(r.received), fmt(r.latency.p50), fmt(r.latency.p99), fmt(r.latency.max), String(r.slowHeld)])
  ))
  const [alone, limited] = results
  console.log(`\nfast p99 with the slow endpoint (limited) / alone: ${fmt(limited!.latency.p99 / Math.max(1, alone!.latency.p99), 2)}×`)
}

runBenchmark(main, intEnv("BENCH_MAX_SECONDS", 420) * 1000)
