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
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted, type Tracer } from "effect"
import { execFile, fork, type ChildProcess } from "node:child_process"
import { randomUUID } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Kafka as KafkaJs, logLevel, Partitioners, type Producer } from "kafkajs"
import pg from "pg"
import { Agent, request as undiciRequest } from "undici"
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

// ---------------------------------------------------------------------------
// Settings

const intEnv = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`)
  return value
}

const settings = {
  adminDatabaseUrl: process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/postgres",
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

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..")
const runId = Date.now()
const databaseName = `is_bench_${runId}`
const eventTopic = `bench.events.${runId}`
const adminToken = "bench-admin-token-0123456789abcdef"
const storeIds = Array.from({ length: settings.stores }, (_, i) => `bench-store-${i + 1}`)
const types = { warmup: "bench.warmup", burst: "bench.burst", steady: "bench.steady" } as const

// ---------------------------------------------------------------------------
// Small helpers

/** Wall-clock milliseconds with sub-millisecond precision (the receiver process uses the same clock). */
const wallNow = () => performance.timeOrigin + performance.now()
const t0 = wallNow()
const progress = (message: string) =>
  process.stderr.write(`[bench +${((wallNow() - t0) / 1000).toFixed(1)}s] ${message}\n`)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const withTimeout = <A>(what: string, ms: number, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

interface Distribution {
  readonly n: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

const distribution = (values: ReadonlyArray<number>): Distribution => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  const sum = sorted.reduce((s, v) => s + v, 0)
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN
  }
}

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a"

const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, timeoutMs: number) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile(command, [...args], { cwd: repoRoot, env, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`))
      else resolve(stdout)
    })
    child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk))
  })

// ---------------------------------------------------------------------------
// Cleanup: last acquired, first released; also on SIGINT/SIGTERM and the deadline

const cleanups: Array<{ readonly name: string; readonly run: () => Promise<unknown> }> = []
let cleaningUp: Promise<void> | undefined
const cleanup = () =>
  (cleaningUp ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await withTimeout(`cleanup: ${step.name}`, 45_000, step.run())
      } catch (e) {
        progress(`cleanup: ${step.name} failed: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  })())

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`)
    void cleanup().finally(() => process.exit(130))
  })
}
// Whatever goes wrong, the database is dropped and the broker stopped.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (e: unknown) => {
    progress(`${event}: ${e instanceof Error ? e.stack ?? e.message : String(e)}; cleaning up`)
    void cleanup().finally(() => process.exit(1))
  })
}

// ---------------------------------------------------------------------------
// CPU accounting from /proc (who uses the two cores during a phase)

const clockTicks = 100
interface CpuSnapshot {
  readonly at: number
  readonly machineBusy: number
  readonly machineTotal: number
  readonly irq: number
  readonly steal: number
  readonly byPid: ReadonlyMap<number, { readonly comm: string; readonly ticks: number }>
}

const cpuSnapshot = (): CpuSnapshot | undefined => {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0)
    const total = cpu.slice(0, 8).reduce((s, v) => s + v, 0)
    const byPid = new Map<number, { comm: string; ticks: number }>()
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
        const close = stat.lastIndexOf(")")
        const comm = stat.slice(stat.indexOf("(") + 1, close)
        const fields = stat.slice(close + 2).split(" ")
        byPid.set(Number(entry), { comm, ticks: Number(fields[11]) + Number(fields[12]) })
      } catch {
        // the process ended meanwhile
      }
    }
    return {
      at: wallNow(),
      machineBusy: total - idle,
      machineTotal: total,
      irq: (cpu[5] ?? 0) + (cpu[6] ?? 0),
      steal: cpu[7] ?? 0,
      byPid
    }
  } catch {
    return undefined
  }
}

/** Cores used per group between two snapshots. */
const cpuUsage = (
  before: CpuSnapshot | undefined,
  after: CpuSnapshot | undefined,
  groupOf: (pid: number, comm: string) => string
): Array<[string, number]> => {
  if (!before || !after) return []
  const seconds = (after.at - before.at) / 1000
  const groups = new Map<string, number>()
  let accounted = 0
  for (const [pid, now] of after.byPid) {
    const ticks = now.ticks - (before.byPid.get(pid)?.ticks ?? 0)
    if (ticks <= 0) continue
    const group = groupOf(pid, now.comm)
    groups.set(group, (groups.get(group) ?? 0) + ticks)
    accounted += ticks
  }
  const machineTicks = after.machineBusy - before.machineBusy
  const cores = (ticks: number) => ticks / clockTicks / seconds
  const named = [...groups.entries()].filter(([name]) => !name.startsWith("other: "))
  const others = [...groups.entries()].filter(([name]) => name.startsWith("other: ")).sort((a, b) => b[1] - a[1])
  const out = named.map(([name, ticks]) => [name, cores(ticks)] as [string, number])
  // The noise: other processes on the box, the busiest by name.
  for (const [name, ticks] of others) if (cores(ticks) >= 0.05) out.push([name, cores(ticks)])
  const small = others.filter(([, ticks]) => cores(ticks) < 0.05).reduce((s, [, t]) => s + t, 0)
  const irq = after.irq - before.irq
  const steal = after.steal - before.steal
  out.push(["other: rest (exited processes, kernel)", cores(small + Math.max(0, machineTicks - accounted - irq - steal))])
  out.push(["irq + softirq (network stack)", cores(irq)])
  out.push(["steal (other VMs)", cores(steal)])
  out.push(["machine (all)", machineTicks / clockTicks / seconds])
  return out
}

// ---------------------------------------------------------------------------
// Span statistics: the service's own Effect spans, aggregated (a client-side pg_stat_statements)

interface SpanStat {
  count: number
  totalMs: number
  maxMs: number
}
const spanStats = new Map<string, SpanStat>()

const spanLabel = (span: Tracer.Span): string => {
  if (span.name !== "sql.execute") return span.name
  const text = String(span.attributes.get("db.query.text") ?? "?").replace(/--[^\n]*/g, " ").replace(/\s+/g, " ").trim()
  const withClause = /^WITH \w+ AS \( SELECT/.exec(text) ? "claim: " : ""
  return `sql: ${withClause}${text.slice(0, 70)}`
}

const autocommitLabel = "(sql statements outside a transaction)"
const transactionLabel = "sql.transaction"

const insideTransaction = (span: Tracer.Span): boolean => {
  let parent = span.parent
  for (let depth = 0; depth < 50 && Option.isSome(parent); depth++) {
    const p = parent.value
    if (p._tag !== "Span") return false
    if (p.name === transactionLabel) return true
    parent = p.parent
  }
  return false
}

/** Commits made by the service: transactions plus statements run on their own (each its own commit). */
const commitsLine = (stats: ReturnType<typeof takeSpanStats>, deliveries: number) => {
  const count = (label: string) => stats.find(([l]) => l === label)?.[1].count ?? 0
  const transactions = count(transactionLabel)
  const single = count(autocommitLabel)
  return `postgres commits by the service: ${fmt(transactions + single)} (${fmt(transactions)} transactions + ` +
    `${fmt(single)} single statements) = ${fmt((transactions + single) / Math.max(1, deliveries), 2)} per delivery`
}

const StatsTracer = Layer.unwrapEffect(
  Effect.map(Effect.tracer, (base) => {
    const tracer: Tracer.Tracer = {
      ...base,
      span(name, parent, context, links, startTime, kind, options) {
        const span = base.span(name, parent, context, links, startTime, kind, options)
        const end = span.end.bind(span)
        ;(span as { end: Tracer.Span["end"] }).end = (endTime, exit) => {
          end(endTime, exit)
          const ms = Number(endTime - startTime) / 1e6
          recordTiming(spanLabel(span), ms)
          if (span.name === "sql.execute" && !insideTransaction(span)) recordTiming(autocommitLabel, ms)
        }
        return span
      },
      context: (f, fiber) => base.context(f, fiber)
    }
    return Layer.setTracer(tracer)
  })
)

const recordTiming = (label: string, ms: number) => {
  const stat = spanStats.get(label) ?? { count: 0, totalMs: 0, maxMs: 0 }
  stat.count++
  stat.totalMs += ms
  if (ms > stat.maxMs) stat.maxMs = ms
  spanStats.set(label, stat)
}

/**
 * Times the service's Kafka consumer from outside: each eachMessage call
 * (handler + offset commit, as KafkaLive runs them) and each commitOffsets.
 * kafkajs is one module instance, so wrapping Client.prototype.consumer
 * reaches the consumers KafkaLive creates.
 */
const instrumentKafkaConsumers = () => {
  type Consumer = ReturnType<KafkaJs["consumer"]>
  const original = KafkaJs.prototype.consumer
  KafkaJs.prototype.consumer = function(this: KafkaJs, ...args: Parameters<KafkaJs["consumer"]>): Consumer {
    const consumer = original.apply(this, args)
    const commitOffsets = consumer.commitOffsets.bind(consumer)
    consumer.commitOffsets = async (offsets) => {
      const t = performance.now()
      try {
        return await commitOffsets(offsets)
      } finally {
        recordTiming("kafka: consumer.commitOffsets", performance.now() - t)
      }
    }
    const run = consumer.run.bind(consumer)
    consumer.run = (config) => {
      const eachMessage = config?.eachMessage
      return run(eachMessage === undefined ? config : {
        ...config,
        eachMessage: async (payload) => {
          const t = performance.now()
          try {
            return await eachMessage(payload)
          } finally {
            recordTiming("kafka: eachMessage (handler + commit)", performance.now() - t)
          }
        }
      })
    }
    return consumer
  }
}

const takeSpanStats = () => {
  const out = [...spanStats.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs)
  spanStats.clear()
  return out
}

// ---------------------------------------------------------------------------
// The receiver process

interface Receiver {
  readonly url: string
  readonly pid: number
  readonly reset: () => Promise<void>
  readonly stats: () => Promise<{ count: number; first: number; last: number }>
  /** [deliveryId, sentAt, receivedAt] of every delivery since the last take/reset. */
  readonly take: () => Promise<Array<[string, number, number]>>
}

const startReceiver = async (): Promise<Receiver> => {
  const child: ChildProcess = fork(join(repoRoot, "bench", "receiver.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  cleanups.push({
    name: "receiver process",
    run: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      child.kill("SIGTERM")
      await withTimeout("receiver exit", 5000, exited).catch(() => child.kill("SIGKILL"))
    }
  })
  const waiting = new Map<string, Array<{ resolve: (message: any) => void; reject: (e: Error) => void }>>()
  let gone: Error | undefined
  const fail = (e: Error) => {
    gone ??= e
    for (const queue of waiting.values()) for (const w of queue.splice(0)) w.reject(e)
  }
  child.on("message", (message: { type: string }) => waiting.get(message.type)?.shift()?.resolve(message))
  child.on("error", (e) => fail(new Error(`receiver process: ${e.message}`)))
  child.on("exit", (code, signal) => fail(new Error(`the receiver process exited (${signal ?? code})`)))
  const ask = <A>(type: string, reply: string): Promise<A> =>
    withTimeout(`receiver ${type}`, 30_000, new Promise<A>((resolve, reject) => {
      if (gone) return reject(gone)
      const queue = waiting.get(reply) ?? []
      queue.push({ resolve, reject })
      waiting.set(reply, queue)
      if (type !== "") child.send({ type }, (e) => e && reject(e))
    }))
  const ready = await ask<{ port: number }>("", "ready")
  return {
    url: `http://127.0.0.1:${ready.port}`,
    pid: child.pid!,
    reset: () => ask("reset", "reset").then(() => undefined),
    stats: () => ask("stats", "stats"),
    take: () => ask<{ records: Array<[string, number, number]> }>("take", "records").then((m) => m.records)
  }
}

// ---------------------------------------------------------------------------
// Infrastructure: database, Kafka broker

const withClient = async <A>(url: string, use: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

const createDatabase = async (): Promise<string> => {
  await withClient(settings.adminDatabaseUrl, (c) => c.query(`CREATE DATABASE "${databaseName}"`))
  cleanups.push({
    name: `drop database ${databaseName}`,
    run: () =>
      withClient(settings.adminDatabaseUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`))
  })
  const url = new URL(settings.adminDatabaseUrl)
  url.pathname = `/${databaseName}`
  return url.toString()
}

const ownBrokerPid = (): number | undefined => {
  try {
    const cacheDir = process.env["KAFKA_CACHE_DIR"] || join(repoRoot, ".cache")
    const pid = Number(readFileSync(join(cacheDir, "kafka-run", `port-${OWN_KAFKA_PORT}`, "broker.pid"), "utf8").trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const kafkaBrokers = async (): Promise<{ brokers: Array<string>; started: boolean }> => {
  if (settings.kafkaBrokers.trim() !== "") {
    return { brokers: settings.kafkaBrokers.split(",").map((s) => s.trim()).filter((s) => s !== ""), started: false }
  }
  const env = { ...process.env, KAFKA_PORT: String(OWN_KAFKA_PORT) }
  const script = join(repoRoot, "scripts", "kafka-broker.sh")
  await run(script, ["fetch"], env, 300_000)
  progress(`starting a Kafka broker on 127.0.0.1:${OWN_KAFKA_PORT}`)
  // Registered first: a start that fails half-way still leaves a process and a data dir behind.
  cleanups.push({ name: "stop the Kafka broker", run: () => run(script, ["stop"], env, 60_000) })
  const out = await run(script, ["start"], env, 150_000)
  const line = /^KAFKA_BROKERS=(.+)$/m.exec(out)
  if (!line) throw new Error(`kafka-broker.sh start printed no KAFKA_BROKERS line:\n${out}`)
  return { brokers: line[1]!.trim().split(","), started: true }
}

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
    eventTopics: new RegExp(`^${eventTopic.replaceAll(".", "\\.")}$`)
  },
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

const ceiling = async (url: string, body: Uint8Array) => {
  const agent = new Agent({ keepAliveTimeout: 4_000 })
  const latencies: Array<number> = []
  let errors = 0
  const start = performance.now()
  const deadline = start + settings.ceilingSeconds * 1000
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now()
      try {
        const res = await undiciRequest(url, {
          dispatcher: agent,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-ss3-event": types.burst,
            "x-ss3-signature": `sha256=${"0".repeat(64)}`
          },
          body
        })
        await res.body.text()
        latencies.push(performance.now() - t)
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: settings.ceilingConcurrency }, loop))
  const seconds = (performance.now() - start) / 1000
  await agent.close()
  return { requests: latencies.length, errors, seconds, rate: latencies.length / seconds, latency: distribution(latencies) }
}

// ---------------------------------------------------------------------------
// Report pieces

const spanTable = (stats: ReturnType<typeof takeSpanStats>, phaseSeconds: number, deliveries: number) =>
  table(
    ["timing (service, client-side; busy % = total ÷ phase time)", "count", "per delivery", "total s", "busy %", "mean ms", "max ms"],
    stats.filter(([label]) => label !== autocommitLabel).slice(0, 14).map(([label, s]) => [
      label.length > 80 ? `${label.slice(0, 77)}...` : label,
      fmt(s.count),
      deliveries > 0 ? fmt(s.count / deliveries, 3) : "n/a",
      fmt(s.totalMs / 1000, 2),
      fmt((s.totalMs / 1000 / phaseSeconds) * 100, 0),
      fmt(s.totalMs / s.count, 2),
      fmt(s.maxMs, 1)
    ])
  )

const cpuTable = (rows: Array<[string, number]>) =>
  table([`cpu (cores of ${readCpuCount()})`, "cores"], rows.map(([n, c]) => [n, fmt(c, 2)]))

const readCpuCount = () => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => l.startsWith("processor")).length
  } catch {
    return Number.NaN
  }
}

/** Timeline after publish start: deliveries created, received and DELIVERED per second, in at most ~15 buckets. */
const timeline = (rows: ReadonlyArray<DeliveryRow>, received: ReadonlyArray<[string, number, number]>, since: number) => {
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

const sourceState = () =>
  run("git", ["describe", "--always", "--dirty"], process.env, 10_000).then((out) => out.trim(), () => "unknown")

const main = async () => {
  const cpuCount = readCpuCount()
  const source = await sourceState()
  progress(
    `run ${runId}: ${settings.events} events × ${settings.subscriptions} subscriptions, ${settings.stores} store(s), ` +
      `steady ${settings.rate}/s for ${settings.rateSeconds} s; ${cpuCount} CPUs`
  )

  // Receiver, database and broker at once.
  const [receiver, databaseUrl, kafka] = await Promise.all([startReceiver(), createDatabase(), kafkaBrokers()])
  progress(`receiver ${receiver.url} (pid ${receiver.pid}); database ${databaseName}; Kafka ${kafka.brokers.join(",")}`)
  const brokerPid = kafka.started ? ownBrokerPid() : undefined

  // The event topic exists before the service subscribes (it would otherwise see it only after a refresh).
  const client = new KafkaJs({ clientId: `is-bench-publisher-${runId}`, brokers: kafka.brokers, logLevel: logLevel.ERROR })
  const admin = client.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: eventTopic, numPartitions: settings.partitions }], waitForLeaders: true })
  cleanups.push({
    name: "delete the event topic",
    run: async () => {
      if (!kafka.started) await admin.deleteTopics({ topics: [eventTopic] }).catch(() => undefined)
      await admin.disconnect()
    }
  })
  const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  cleanups.push({ name: "publisher", run: () => producer.disconnect() })

  // The service.
  if (settings.spans) instrumentKafkaConsumers()
  const config = serviceConfig(databaseUrl, kafka.brokers)
  const runtime = ManagedRuntime.make(serviceLayer(config))
  cleanups.push({ name: "stop the service", run: () => runtime.dispose() })
  const started = wallNow()
  await withTimeout("service start", 90_000, runtime.runtime())
  const baseUrl = await runtime.runPromise(HttpServer.addressFormattedWith((address) => Effect.succeed(address)))
  progress(`service up in ${((wallNow() - started) / 1000).toFixed(1)} s at ${baseUrl}`)

  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  cleanups.push({ name: "observer connection", run: () => db.end() })

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

const deadline = setTimeout(() => {
  progress(`the run took longer than ${RUN_DEADLINE_MS / 1000} s: cleaning up`)
  void cleanup().finally(() => process.exit(1))
}, RUN_DEADLINE_MS)

main()
  .then(
    () => 0,
    (e: unknown) => {
      // Once a signal started the cleanup, what fails next is its consequence.
      if (cleaningUp === undefined) progress(`failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
      return 1
    }
  )
  .then(async (code) => {
    await cleanup()
    clearTimeout(deadline)
    progress(`done (${((wallNow() - t0) / 1000).toFixed(1)} s)`)
    // kafkajs and pg may keep timers around; the run is over.
    process.exit(code)
  })
