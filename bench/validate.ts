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
 *   ceiling      a plain node:http server in this process answering validate's bytes: what Node
 *                itself does on this machine in this run (bench/validateCeiling.ts)
 *   warm         GET /credentials/validate with one good API key (cached after its first use);
 *                ceiling, warm and malformed take turns for BENCH_ROUNDS rounds, each warm
 *                round against the ceiling just before it
 *   healthz      GET /healthz: a route of the Effect HTTP app
 *   warm c=1     the same, one request at a time: latency without queueing
 *   malformed    an API key with a bad checksum: 400 before any lookup (in the rounds too)
 *   cold         Basic with a different OAuth client every time: one bcrypt comparison each
 *   warm-under-cold  warm, one at a time, while 16 connections send cold validations (bcrypt busy)
 *   warm-flood   warm, one at a time, while BENCH_FLOOD connections send forged keys (below)
 *   cold-c1      cold, one at a time, nothing else running: the idle cold time
 *   cold-flood   the same while BENCH_FLOOD connections send forged well-formed keys of nobody
 *                (fresh ids, right checksums) back to back
 *
 * It ends with each target of the hot path against what this run measured.
 *
 * Environment (all optional):
 *   DATABASE_URL        admin URL (default postgres://postgres@127.0.0.1:5432/postgres); a throwaway database
 *                       is_bench_validate_<ts> is created in it and dropped at the end
 *   KAFKA_BROKERS       a broker for the service's Kafka consumer; unset: the in-process dev bus
 *   BENCH_SECONDS (5)   BENCH_WARMUP_MS (1000)   BENCH_CONCURRENCY (50)
 *   BENCH_COLD_CLIENTS  OAuth clients for the cold phases (3000, a quarter each); each presentation is used once
 *   BENCH_FLOOD         connections sending forged keys in warm-flood and cold-flood (300)
 *   BENCH_ROUNDS        rounds of ceiling and warm (3)
 *   BENCH_BCRYPT_COST   (10, the production default)
 *   BENCH_LOGS          off (default: warnings only) | json (the production JSON request log, written to /dev/null)
 *   BENCH_PHASES        a comma-separated subset of ceiling,healthz,warm,warm-c1,malformed,cold,warm-under-cold,
 *                       warm-flood,cold-c1,cold-flood (default: all)
 *
 * Profiling the service (this process): node --cpu-prof --cpu-prof-dir=.cache/prof --import tsx bench/validate.ts
 */
import { HttpServer } from "@effect/platform"
import bcrypt from "bcrypt"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { fork } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createWriteStream } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { credentialKeys, newClientId } from "../src/domain/credentials/keys.ts"
import { cryptoPrimitivesNode } from "../src/layers/CryptoPrimitivesNode.ts"
import { KafkaDev } from "../src/layers/KafkaDev.ts"
import { KafkaLive } from "../src/layers/KafkaLive.ts"
import { MainLive } from "../src/programs/main.ts"
import { benchServiceConfig, inProcessInfra } from "./support/service.ts"
import { startCeiling } from "./validateCeiling.ts"
import type { Phase, PhaseResult } from "./validateLoad.ts"
import { type Measured, report } from "./validateReport.ts"

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
  coldClients: Math.max(4, intEnv("BENCH_COLD_CLIENTS", 3000)),
  flood: Math.max(1, intEnv("BENCH_FLOOD", 300)),
  rounds: Math.max(1, intEnv("BENCH_ROUNDS", 3)),
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
  const config = benchServiceConfig({
    databaseUrl,
    brokers: settings.kafkaBrokers,
    clientId: `bench-validate-${runId}`,
    eventTopics: new RegExp(`^bench\\.validate\\.${runId}$`),
    adminToken,
    bcryptCost: settings.bcryptCost
  })
  const logs = settings.logs === "json"
    ? Logger.replace(
      Logger.defaultLogger,
      (() => {
        const sink = createWriteStream("/dev/null")
        return Logger.map(Logger.jsonLogger, (line) => void sink.write(`${line}\n`))
      })()
    ).pipe(Layer.merge(Logger.minimumLogLevel(LogLevel.Info)))
    : Logger.minimumLogLevel(LogLevel.Warning)
  const infra = inProcessInfra(config, settings.kafkaBrokers.length > 0 ? KafkaLive : KafkaDev)
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

  // The ceiling: Node's own HTTP server answering exactly what validate answers for this key.
  const answer = await fetch(`${origin}/credentials/validate`, { headers: { authorization: `Bearer ${apiKey}` } })
  const ceiling = await startCeiling({
    headers: {
      "cache-control": answer.headers.get("cache-control")!,
      "content-type": answer.headers.get("content-type")!,
      "content-length": answer.headers.get("content-length")!
    },
    body: Buffer.from(await answer.arrayBuffer())
  })
  cleanups.push({ name: "ceiling server", run: ceiling.close })

  const send = await startLoadGenerator()
  const base = { origin, concurrency: settings.concurrency, warmupMs: settings.warmupMs, seconds: settings.seconds, mode: "rotate" as const }
  const warmKey = [{ authorization: `Bearer ${apiKey}` }]
  const quarter = Math.floor(coldHeaders.length / 4)
  // The ceiling and warm validate take turns, round after round: the machine's other load drifts,
  // and each warm round is compared with the ceiling measured just before it.
  const rounds = Array.from({ length: settings.rounds }, (_, i) => [
    { ...base, origin: ceiling.origin, label: `node:http ceiling (same JSON), round ${i + 1}`, name: `ceiling#${i + 1}`, path: "/credentials/validate", headers: warmKey, expect: 200 },
    { ...base, label: `validate, warm (cached key), round ${i + 1}`, name: `warm#${i + 1}`, path: "/credentials/validate", headers: warmKey, expect: 200 },
    { ...base, label: `validate, malformed key (400), round ${i + 1}`, name: `malformed#${i + 1}`, path: "/credentials/validate", headers: [{ authorization: `Bearer ${malformedKey}` }], expect: 400 }
  ]).flat()
  const phases: Array<Omit<Phase, "type"> & { label: string; expect: number }> = [
    ...rounds,
    { ...base, label: "GET /healthz (an Effect route)", name: "healthz", path: "/healthz", headers: [{}], expect: 200 },
    { ...base, concurrency: 1, label: "validate, warm, concurrency 1", name: "warm-c1", path: "/credentials/validate", headers: warmKey, expect: 200 },
    { ...base, mode: "unique", label: `validate, cold (bcrypt ${settings.bcryptCost})`, name: "cold", path: "/credentials/validate", headers: coldHeaders.slice(0, quarter), expect: 200 },
    {
      ...base,
      concurrency: 1,
      label: "validate, warm, c=1, while cold load",
      name: "warm-under-cold",
      path: "/credentials/validate",
      headers: warmKey,
      expect: 200,
      background: { concurrency: 16, mode: "unique", headers: coldHeaders.slice(quarter, 2 * quarter) }
    },
    {
      ...base,
      concurrency: 1,
      label: `validate, warm, c=1, ${settings.flood} forged keys in flight`,
      name: "warm-flood",
      path: "/credentials/validate",
      headers: warmKey,
      expect: 200,
      background: { concurrency: settings.flood, mode: "forged", headers: [] }
    },
    { ...base, concurrency: 1, mode: "unique", label: "validate, cold, c=1 (idle)", name: "cold-c1", path: "/credentials/validate", headers: coldHeaders.slice(2 * quarter, 3 * quarter), expect: 200 },
    {
      ...base,
      concurrency: 1,
      mode: "unique",
      label: `validate, cold, c=1, ${settings.flood} forged keys in flight`,
      name: "cold-flood",
      path: "/credentials/validate",
      headers: coldHeaders.slice(3 * quarter),
      expect: 200,
      background: { concurrency: settings.flood, mode: "forged", headers: [] }
    }
  ]
  const results: Array<Measured> = []
  const selected = (name: string) => settings.phases.length === 0 || settings.phases.includes(name.replace(/#\d+$/, ""))
  for (const phase of phases.filter((p) => selected(p.name))) {
    progress(`phase ${phase.name}: ${settings.warmupMs} ms warm-up, ${settings.seconds} s at concurrency ${phase.concurrency}`)
    const { label, expect, ...spec } = phase
    // The service (and the ceiling) run in this process: its CPU per answer is what each one costs,
    // much steadier than req/s on a machine shared with other work.
    const cpuBefore = process.cpuUsage()
    const result = await send(spec)
    const cpu = process.cpuUsage(cpuBefore)
    results.push({ ...result, label, concurrency: phase.concurrency, cpuMicrosPerAnswer: (cpu.user + cpu.system) / Math.max(1, result.answered) })
    const unexpected = Object.entries(result.statuses).filter(([status]) => Number(status) !== expect)
    if (unexpected.length > 0 || result.errors > 0) {
      progress(`phase ${phase.name}: unexpected answers ${JSON.stringify(result.statuses)}, ${result.errors} errors`)
    }
    if (result.exhausted) progress(`phase ${phase.name}: ran out of distinct presentations (raise BENCH_COLD_CLIENTS)`)
  }

  console.log(report(results, { concurrency: settings.concurrency, bcryptCost: settings.bcryptCost, flood: settings.flood, rounds: settings.rounds }))
  console.log("")
  console.log(`rerun: npm run bench:validate   (DATABASE_URL=${settings.adminDatabaseUrl.replace(/:[^:@/]*@/, ":***@")} ` +
    `BENCH_SECONDS=${settings.seconds} BENCH_CONCURRENCY=${settings.concurrency} BENCH_FLOOD=${settings.flood} BENCH_ROUNDS=${settings.rounds} BENCH_LOGS=${settings.logs})`)
}

main().then(
  () => cleanup().then(() => process.exit(0)),
  (error: unknown) => {
    progress(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
    return cleanup().then(() => process.exit(1))
  }
)
