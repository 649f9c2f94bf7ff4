/** The run's settings (from the environment; see the header of ./main.ts) and the names it uses. */
import { defaultAdminDatabaseUrl } from "../support/database.ts"
import { intEnv } from "../support/run.ts"

export const settings = {
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

export const DEFAULT_KAFKA_PORT = 19592
/** The port of the broker this script starts (never 19092: CI uses it). */
export const OWN_KAFKA_PORT = intEnv("BENCH_KAFKA_PORT", DEFAULT_KAFKA_PORT)
/** The whole run is cut short after this long (cleanup still runs). */
export const RUN_DEADLINE_MS = intEnv("BENCH_MAX_SECONDS", 175) * 1000

export const runId = Date.now()
export const databaseName = `is_bench_${runId}`
export const eventTopic = `bench.events.${runId}`
export const adminToken = "bench-admin-token-0123456789abcdef"
export const storeIds = Array.from({ length: settings.stores }, (_, i) => `bench-store-${i + 1}`)
export const types = { warmup: "bench.warmup", burst: "bench.burst", steady: "bench.steady" } as const
