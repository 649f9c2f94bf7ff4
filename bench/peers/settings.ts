/** bench:peers settings, all from the environment (see the header of ./main.ts). */
import { defaultAdminDatabaseUrl } from "../support/database.ts"
import { intEnv } from "../support/run.ts"

const listEnv = (name: string, fallback: ReadonlyArray<string>): Array<string> => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return [...fallback]
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "")
}

export const allSystems = ["ceiling", "store-floor", "service", "bullmq", "graphile-worker", "pg-boss"] as const
export type SystemName = (typeof allSystems)[number]

const systems = listEnv("BENCH_SYSTEMS", allSystems)
for (const name of systems) {
  if (!(allSystems as ReadonlyArray<string>).includes(name)) {
    throw new Error(`BENCH_SYSTEMS: unknown system ${name} (known: ${allSystems.join(", ")})`)
  }
}

export const settings = {
  adminDatabaseUrl: process.env["DATABASE_URL"] || defaultAdminDatabaseUrl,
  kafkaBrokers: process.env["KAFKA_BROKERS"] ?? "",
  redisUrl: process.env["REDIS_URL"] || "redis://127.0.0.1:6379",
  systems: systems as Array<SystemName>,
  /** Only these scenarios (by key: steady_500, burst, after_2000, fanout, wide, …); empty: all. */
  only: listEnv("BENCH_SCENARIOS", []),
  /** Deliveries in the one-subscription burst. */
  burst: intEnv("BENCH_BURST", 20_000),
  /** Events of the fan-out burst, and the subscriptions each one goes to. */
  fanoutEvents: intEnv("BENCH_FANOUT_EVENTS", 5_000),
  fanout: Math.max(1, intEnv("BENCH_FANOUT", 4)),
  /** Steady rates (events/s, one subscription), each for BENCH_STEADY_SECONDS, quiet and right after the burst. */
  rates: listEnv("BENCH_RATES", ["500", "2000"]).map(Number).filter((r) => Number.isFinite(r) && r > 0),
  steadySeconds: intEnv("BENCH_STEADY_SECONDS", 10),
  afterBurst: process.env["BENCH_AFTER_BURST"] !== "0",
  /** Subscriptions of the store one event goes to (service only; 0: skip). */
  wideFanout: intEnv("BENCH_WIDE_FANOUT", 10_000),
  /** Requests per ceiling measurement. */
  ceilingRequests: intEnv("BENCH_CEILING_REQUESTS", 20_000),
  payloadBytes: intEnv("BENCH_PAYLOAD_BYTES", 256),
  /** A burst to one subscription before the first scenario (not shown): JIT, connections, a broker just started. */
  warmupEvents: intEnv("BENCH_WARMUP_EVENTS", 2000),
  /** Then this many seconds at 500 events/s (not shown): the broker's JVM and the processes' JIT warm up. */
  warmupSeconds: intEnv("BENCH_WARMUP_SECONDS", 20),
  /** Seconds a scenario may take to drain after its last event was produced. */
  phaseTimeoutMs: intEnv("BENCH_PHASE_TIMEOUT", 60) * 1000,
  /** The whole run, cleanup included. */
  maxSeconds: intEnv("BENCH_MAX_SECONDS", 600),
  /** A folder: each scenario's first receipts are written there as CSV (produced ms, received ms), to see when the tail happened. */
  receiptsDir: process.env["BENCH_RECEIPTS_DIR"] ?? "",
  timeoutMs: intEnv("BENCH_WEBHOOK_TIMEOUT_MS", 10_000),
  bullmqConcurrency: Math.max(1, intEnv("BENCH_BULLMQ_CONCURRENCY", 64)),
  serviceMaxInFlight: Math.min(1000, Math.max(1, intEnv("BENCH_SERVICE_MAX_IN_FLIGHT", 64))),
  bullmqKeepCompleted: process.env["BENCH_BULLMQ_KEEP_COMPLETED"] !== "0",
  graphileConcurrency: Math.max(1, intEnv("BENCH_GRAPHILE_CONCURRENCY", 64)),
  graphilePool: Math.max(1, intEnv("BENCH_GRAPHILE_POOL", 32)),
  pgBossBatch: Math.max(1, intEnv("BENCH_PGBOSS_BATCH", 256)),
  pgBossWorkers: Math.max(1, intEnv("BENCH_PGBOSS_WORKERS", 4)),
  pgBossPollSeconds: Math.max(0.5, intEnv("BENCH_PGBOSS_POLL_SECONDS", 0.5))
}

/** The port of the broker this bench starts when KAFKA_BROKERS is not set (never 19092: CI's). */
export const OWN_KAFKA_PORT = intEnv("BENCH_KAFKA_PORT", 19392)

/** Attempts before a peer gives a delivery up (the service's retry table has 5). */
export const ATTEMPTS = 5
