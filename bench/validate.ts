/**
 * Gateway validation benchmark: the whole service in-process, as `serve`
 * assembles it (MainLive: migrations, HTTP API, fan-out consumer, delivery
 * workers), on real PostgreSQL, with bcrypt at the production default cost
 * (10), measured by a load generator in a separate process (bench/validateLoad.ts:
 * undici, keep-alive).
 *
 *   npm run bench:validate                       (or: npx tsx bench/validate.ts)
 *
 * Phases (each BENCH_WARMUP_MS of warm-up, then BENCH_SECONDS counted):
 *   healthz      GET /healthz: the ceiling of this server on this machine
 *   warm         GET /credentials/validate with one good API key (cached after its first use)
 *   warm c=1     the same, one request at a time: latency without queueing
 *   malformed    an API key with a bad checksum: 400 before any lookup
 *   cold         Basic with a different OAuth client every time: one bcrypt comparison each
 *   warm-under-cold  warm, one at a time, while 16 connections send cold validations (bcrypt busy)
 *
 * Environment (all optional):
 *   DATABASE_URL        admin URL (default postgres://postgres@127.0.0.1:5432/postgres); a throwaway database
 *                       is_bench_validate_<ts> is created in it and dropped at the end
 *   KAFKA_BROKERS       a broker for the service's Kafka consumer; unset: the in-process dev bus
 *   BENCH_SECONDS (5)   BENCH_WARMUP_MS (1000)   BENCH_CONCURRENCY (50)
 *   BENCH_COLD_CLIENTS  OAuth clients for the cold phases (3000, half each); each presentation is used once
 *   BENCH_BCRYPT_COST   (10, the production default)
 *   BENCH_LOGS          off (default: warnings only) | json (the production JSON request log, written to /dev/null)
 *   BENCH_PHASES        a comma-separated subset of healthz,warm,warm-c1,malformed,cold,warm-under-cold (default: all)
 *
 * Profiling the service (this process): node --cpu-prof --cpu-prof-dir=.cache/prof --import tsx bench/validate.ts
 */
import { HttpServer } from "@effect/platform"
import bcrypt from "bcrypt"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted } from "effect"
import { fork } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createWriteStream } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { credentialKeys, newClientId } from "../src/domain/credentials/keys.ts"
import { CryptoPrimitivesNode, cryptoPrimitivesNode } from "../src/layers/CryptoPrimitivesNode.ts"
import { DbLive } from "../src/layers/DbLive.ts"
import { DnsLive } from "../src/layers/DnsLive.ts"
import { HttpOutLive } from "../src/layers/HttpOutLive.ts"
import { makeHttpServerNode } from "../src/layers/HttpServerNode.ts"
import { KafkaDev } from "../src/layers/KafkaDev.ts"
import { KafkaLive } from "../src/layers/KafkaLive.ts"
import { NotificationsPg } from "../src/layers/NotificationsPg.ts"
import { PasswordHasherFromConfig } from "../src/layers/PasswordHasherBcrypt.ts"
import { makeVaultTest } from "../src/layers/VaultTest.ts"
import { MainLive } from "../src/programs/main.ts"
import { AppConfig, type AppConfigShape } from "../src/services/AppConfig.ts"
import { Vault } from "../src/services/Vault.ts"
import type { Phase, PhaseResult } from "./validateLoad.ts"

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
  kafkaBrokers: (process.env["KAFKA_BROKERS"] ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0),
  seconds: intEnv("BENCH_SECONDS", 5),
  warmupMs: intEnv("BENCH_WARMUP_MS", 1000),
  concurrency: Math.max(1, intEnv("BENCH_CONCURRENCY", 50)),
  coldClients: Math.max(1, intEnv("BENCH_COLD_CLIENTS", 3000)),
  bcryptCost: intEnv("BENCH_BCRYPT_COST", 10),
  logs: process.env["BENCH_LOGS"] === "json" ? "json" as const : "off" as const,
  phases: (process.env["BENCH_PHASES"] ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0)
}

const { newSecret } = credentialKeys(cryptoPrimitivesNode.crc32)

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..")
const runId = Date.now()
const databaseName = `is_bench_validate_${runId}`
const adminToken = `bench-admin-${randomUUID()}`
const storeId = "bench-store-1"

const progress = (message: string) => process.stderr.write(`[bench:validate] ${message}\n`)

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a"

const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd()
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

// ---------------------------------------------------------------------------
// Cleanup: last acquired, first released; also on SIGINT/SIGTERM

const cleanups: Array<{ readonly name: string; readonly run: () => Promise<unknown> }> = []
let cleaningUp: Promise<void> | undefined
const cleanup = () =>
  (cleaningUp ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step.run()
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

// ---------------------------------------------------------------------------
// The throwaway database

const createDatabase = async () => {
  const admin = new pg.Client({ connectionString: settings.adminDatabaseUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${databaseName}"`)
  } finally {
    await admin.end()
  }
  cleanups.push({
    name: `drop database ${databaseName}`,
    run: async () => {
      const client = new pg.Client({ connectionString: settings.adminDatabaseUrl })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`)
      } finally {
        await client.end()
      }
    }
  })
  const url = new URL(settings.adminDatabaseUrl)
  url.pathname = `/${databaseName}`
  return url.toString()
}

// ---------------------------------------------------------------------------
// The service, in-process

const startService = async (databaseUrl: string) => {
  const config: AppConfigShape = {
    mode: "live",
    port: 0,
    databaseUrl: Redacted.make(databaseUrl),
    kafka: {
      brokers: settings.kafkaBrokers,
      clientId: `bench-validate-${runId}`,
      groupId: `bench-validate-${runId}`,
      eventTopics: new RegExp(`^bench\\.validate\\.${runId}$`)
    },
    adminToken: Redacted.make(adminToken),
    otlpEndpoint: Option.none(),
    webhook: { timeoutMs: 10_000, allowInsecureTargets: true },
    credentials: { bcryptCost: settings.bcryptCost, accessTokenTtlSeconds: 3600 },
    dataDir: ".data-bench"
  }
  const logs = settings.logs === "json"
    ? Logger.replace(
      Logger.defaultLogger,
      (() => {
        const sink = createWriteStream("/dev/null")
        return Logger.map(Logger.jsonLogger, (line) => void sink.write(`${line}\n`))
      })()
    ).pipe(Layer.merge(Logger.minimumLogLevel(LogLevel.Info)))
    : Logger.minimumLogLevel(LogLevel.Warning)
  const infra = Layer.mergeAll(
    NotificationsPg,
    settings.kafkaBrokers.length > 0 ? KafkaLive : KafkaDev,
    HttpOutLive,
    DnsLive,
    PasswordHasherFromConfig,
    CryptoPrimitivesNode,
    makeHttpServerNode(0, "127.0.0.1"),
    Layer.effect(Vault, makeVaultTest())
  ).pipe(Layer.provideMerge(DbLive), Layer.provideMerge(Layer.succeed(AppConfig, config)))
  const runtime = ManagedRuntime.make(MainLive.pipe(Layer.provideMerge(infra), Layer.provide(logs)))
  cleanups.push({ name: "service", run: () => runtime.dispose() })
  return runtime.runPromise(HttpServer.addressFormattedWith((address) => Effect.succeed(address)))
}

// ---------------------------------------------------------------------------
// The load generator, in its own process

const startLoadGenerator = async () => {
  const child = fork(join(repoRoot, "bench", "validateLoad.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  cleanups.push({
    name: "load generator",
    run: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      child.kill("SIGTERM")
      await exited
    }
  })
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve())
    child.once("exit", (code) => reject(new Error(`load generator exited (${code})`)))
  })
  return (phase: Omit<Phase, "type">) =>
    new Promise<PhaseResult>((resolve, reject) => {
      child.once("message", (message: PhaseResult | { type: "error"; message: string }) =>
        message.type === "result" ? resolve(message) : reject(new Error(message.message))
      )
      child.send({ type: "phase", ...phase })
    })
}

// ---------------------------------------------------------------------------

const main = async () => {
  progress(`database ${databaseName} (bcrypt cost ${settings.bcryptCost}, ${settings.kafkaBrokers.length > 0 ? `Kafka ${settings.kafkaBrokers.join(",")}` : "in-process event bus"}, logs ${settings.logs})`)
  const databaseUrl = await createDatabase()
  const origin = await startService(databaseUrl)
  progress(`service at ${origin}`)

  // One API key, through the admin API.
  const issued = await fetch(`${origin}/stores/${storeId}/credentials`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench", type: "API_KEY", scopes: ["orders:read", "catalog:read"] })
  })
  if (issued.status !== 201) throw new Error(`issuing the API key: HTTP ${issued.status} ${await issued.text()}`)
  const apiKey = ((await issued.json()) as { secret: string }).secret

  // Many OAuth clients sharing one secret (so one hash at cost 10 serves them all), inserted directly:
  // every Basic presentation differs by client_id, so none is ever answered from the cache.
  progress(`inserting ${settings.coldClients} OAuth clients for the cold phase`)
  const clientSecret = newSecret("OAUTH_CLIENT", newClientId("OAUTH_CLIENT"))
  const hash = await bcrypt.hash(clientSecret.secret, settings.bcryptCost)
  const clientIds = Array.from({ length: settings.coldClients }, () => newClientId("OAUTH_CLIENT"))
  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  await db.query(
    `INSERT INTO api_credentials (credential_id, store_id, name, type, client_id, hashed_secret, scopes, created_by)
     SELECT gen_random_uuid(), $1, 'bench cold', 'OAUTH_CLIENT', c, $2, ARRAY['orders:read'], 'bench'
     FROM unnest($3::text[]) AS c`,
    [storeId, hash, clientIds]
  )
  await db.end()

  const coldHeaders = clientIds.map((id) => ({
    authorization: `Basic ${Buffer.from(`${id}:${clientSecret.presented}`).toString("base64")}`
  }))
  // Same shape, checksum wrong: refused before any lookup.
  const last = apiKey.at(-1)!
  const malformedKey = `${apiKey.slice(0, -1)}${last === "A" ? "B" : "A"}`

  const send = await startLoadGenerator()
  const base = { origin, concurrency: settings.concurrency, warmupMs: settings.warmupMs, seconds: settings.seconds, mode: "rotate" as const }
  const phases: Array<Omit<Phase, "type"> & { label: string; expect: number }> = [
    { ...base, label: "GET /healthz", name: "healthz", path: "/healthz", headers: [{}], expect: 200 },
    { ...base, label: "validate, warm (cached key)", name: "warm", path: "/credentials/validate", headers: [{ authorization: `Bearer ${apiKey}` }], expect: 200 },
    { ...base, concurrency: 1, label: "validate, warm, concurrency 1", name: "warm-c1", path: "/credentials/validate", headers: [{ authorization: `Bearer ${apiKey}` }], expect: 200 },
    { ...base, label: "validate, malformed key (400)", name: "malformed", path: "/credentials/validate", headers: [{ authorization: `Bearer ${malformedKey}` }], expect: 400 },
    { ...base, mode: "unique", label: `validate, cold (bcrypt ${settings.bcryptCost})`, name: "cold", path: "/credentials/validate", headers: coldHeaders.slice(0, coldHeaders.length / 2), expect: 200 },
    {
      ...base,
      concurrency: 1,
      label: "validate, warm, c=1, while cold load",
      name: "warm-under-cold",
      path: "/credentials/validate",
      headers: [{ authorization: `Bearer ${apiKey}` }],
      expect: 200,
      background: { concurrency: 16, mode: "unique", headers: coldHeaders.slice(coldHeaders.length / 2) }
    }
  ]
  const results: Array<PhaseResult & { label: string; expect: number; concurrency: number }> = []
  for (const phase of phases.filter((p) => settings.phases.length === 0 || settings.phases.includes(p.name))) {
    progress(`phase ${phase.name}: ${settings.warmupMs} ms warm-up, ${settings.seconds} s at concurrency ${phase.concurrency}`)
    const { label, expect, ...spec } = phase
    const result = await send(spec)
    results.push({ ...result, label, expect, concurrency: phase.concurrency })
    const unexpected = Object.entries(result.statuses).filter(([status]) => Number(status) !== expect)
    if (unexpected.length > 0 || result.errors > 0) {
      progress(`phase ${phase.name}: unexpected answers ${JSON.stringify(result.statuses)}, ${result.errors} errors`)
    }
    if (result.exhausted) progress(`phase ${phase.name}: ran out of distinct presentations (raise BENCH_COLD_CLIENTS)`)
  }

  const rate = (r: PhaseResult | undefined) => (r === undefined ? Number.NaN : (r.requests / r.elapsedMs) * 1000)
  const byName: Record<string, PhaseResult | undefined> = Object.fromEntries(results.map((r) => [r.name, r]))
  console.log("")
  console.log(table(
    ["phase", "conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "answers"],
    results.map((r) => [
      r.label,
      String(r.concurrency),
      fmt(rate(r)),
      fmt(r.latency.p50, 2),
      fmt(r.latency.p90, 2),
      fmt(r.latency.p99, 2),
      fmt(r.latency.max, 1),
      Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(" ") + (r.errors ? ` errors×${r.errors}` : "")
    ])
  ))
  const ratio = rate(byName["warm"]) / rate(byName["healthz"])
  console.log("")
  console.log(`warm validate / healthz: ${fmt(ratio * 100, 1)}%   (target ≥ 70%)`)
  console.log(`warm validate p99: ${fmt(byName["warm"]?.latency.p99 ?? Number.NaN, 2)} ms at concurrency ${settings.concurrency}, ` +
    `${fmt(byName["warm-c1"]?.latency.p99 ?? Number.NaN, 2)} ms at concurrency 1   (target < 5 ms)`)
  console.log(`warm validate p99 while cold validations keep bcrypt busy: ${fmt(byName["warm-under-cold"]?.latency.p99 ?? Number.NaN, 2)} ms`)
  console.log(`cold validations: ${fmt(rate(byName["cold"]), 1)}/s (bcrypt cost ${settings.bcryptCost}, UV_THREADPOOL_SIZE ${process.env["UV_THREADPOOL_SIZE"] ?? "4 (default)"})`)
  console.log("")
  console.log(`rerun: npm run bench:validate   (DATABASE_URL=${settings.adminDatabaseUrl.replace(/:[^:@/]*@/, ":***@")} ` +
    `BENCH_SECONDS=${settings.seconds} BENCH_CONCURRENCY=${settings.concurrency} BENCH_LOGS=${settings.logs})`)
}

main().then(
  () => cleanup().then(() => process.exit(0)),
  (error: unknown) => {
    progress(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
    return cleanup().then(() => process.exit(1))
  }
)
