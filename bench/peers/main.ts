/**
 * bench:peers — webhook delivery by integration-service beside the job queues a
 * Node team would deliver webhooks with, on this machine, in one run:
 *
 *   npm run bench:peers            (bash bench/peers/run.sh: installs bench/peers' packages when missing)
 *
 * Systems, one after the other, each doing the same job — an event becomes one
 * signed JSON POST per subscription (X-SS3-Signature: sha256=HMAC-SHA256 of the
 * body) to a local receiver process, retried on failure:
 *   ceiling           the receiver's own ceiling: plain POSTs of the same body at concurrency 64 and 128
 *   store-floor       the service's delivery-store statements alone for the one-subscription burst (no Kafka, no
 *                     HTTP): what PostgreSQL spends per delivery however fast the rest is (./storeFloor.ts)
 *   service           integration-service as `serve` runs it (MainLive: PostgreSQL, Kafka, undici), events produced to
 *                     Kafka, subscriptions made through its admin API
 *   bullmq            BullMQ on Redis (REDIS_URL), concurrency 64
 *   graphile-worker   graphile-worker on PostgreSQL, concurrency 64
 *   pg-boss           pg-boss on PostgreSQL, batches of 256
 * Every system's workers run in a child process of their own (peak RSS and CPU are that process's); the
 * producer (the application enqueuing, or the platform publishing to Kafka) is this process.
 *
 * Scenarios per system (in this order): a warm-up burst and a warm-up at 500/s (not shown), steady rates (quiet), a burst to one
 * subscription, the same steady rates right after it, a burst of events × BENCH_FANOUT subscriptions, and
 * (service only) one event to a store with BENCH_WIDE_FANOUT subscriptions. Each is drained before the next.
 * Per scenario: deliveries/s (distinct receipts ÷ first produce → last receipt), p50/p99 of produce → receipt,
 * peak RSS and CPU s per 1,000 deliveries of the worker process, CPU of the system's store (its database's
 * PostgreSQL backends, Redis, the Kafka broker and Vault double), and a ledger: produced = delivered +
 * pending + failed, from the receiver and the system's store; a run that does not balance is VOID.
 *
 * Environment (all optional):
 *   BENCH_SYSTEMS          which, in order (ceiling,store-floor,service,bullmq,graphile-worker,pg-boss)
 *   BENCH_SCENARIOS        only these, by key (steady_<rate>, burst, after_<rate>, fanout, wide); default all
 *   BENCH_BURST            deliveries of the one-subscription burst (20000)
 *   BENCH_FANOUT_EVENTS    events of the fan-out burst (5000)   BENCH_FANOUT  subscriptions per event (4)
 *   BENCH_RATES            steady rates, events/s (500,2000)    BENCH_STEADY_SECONDS  each (10)
 *   BENCH_AFTER_BURST      0: no steady rates after the burst (1)
 *   BENCH_WIDE_FANOUT      subscriptions of the wide store, 0 to skip (10000)
 *   BENCH_CEILING_REQUESTS requests per ceiling measurement (20000)
 *   BENCH_PAYLOAD_BYTES    padding in each event's data (256)   BENCH_WARMUP_EVENTS (2000)
 *   BENCH_WARMUP_SECONDS   then a steady 500/s for this long, not shown (20; 0: none): JIT, the broker's JVM above all
 *   BENCH_PHASE_TIMEOUT    seconds a scenario may take to drain (60)
 *   BENCH_MAX_SECONDS      the whole run, cleanup included (600); scenarios that no longer fit are skipped
 *   BENCH_SERVICE_MAX_IN_FLIGHT each subscription's maxInFlight (64: a peer's worker count; the service's default is 10)
 *   BENCH_BULLMQ_CONCURRENCY (64)  BENCH_BULLMQ_KEEP_COMPLETED (1; 0: removeOnComplete)
 *   BENCH_GRAPHILE_CONCURRENCY (64)  BENCH_GRAPHILE_POOL (32)
 *   BENCH_PGBOSS_BATCH (256)  BENCH_PGBOSS_WORKERS work() loops (4)  BENCH_PGBOSS_POLL_SECONDS (0.5, its minimum)
 *   DATABASE_URL           admin URL (postgres://postgres@127.0.0.1:5432/postgres): databases is_peers_<run>_* are
 *                          created in it and dropped at the end
 *   REDIS_URL              (redis://127.0.0.1:6379): keys under bench-peers-<run>: are deleted at the end
 *   BENCH_RECEIPTS_DIR     a folder: each scenario's receipts as CSV (<system>-<scenario>.csv: produced, received ms)
 *   BENCH_SERVICE_LOG      keep the service's JSON log in this file (default: a temporary file, removed)
 *   BENCH_SERVICE_CPU_PROF a folder: the service runs with --cpu-prof and leaves its V8 CPU profile there
 *   BENCH_SERVICE_NODE_ARGS more node flags for the service's process (e.g. --trace-gc; with BENCH_SERVICE_LOG)
 *   KAFKA_BROKERS          a broker to use; unset: one is started on BENCH_KAFKA_PORT (19392) and stopped at the end
 */
import { type Broker, kafkaBroker } from "../support/broker.ts"
import { readCpuCount } from "../support/cpu.ts"
import { startReceiver } from "../support/receiver.ts"
import { isCleaningUp, progress, runBenchmark, runStartedAt, sourceState, wallNow } from "../support/run.ts"
import { measureCeiling } from "./ceiling.ts"
import { measureStoreFloor, storeFloorName } from "./storeFloor.ts"
import { type Row, runScenario, skippedRow } from "./measure.ts"
import { breakdownLines, ledgerLines, resultTable } from "./report.ts"
import { scenarios } from "./scenarios.ts"
import { OWN_KAFKA_PORT, settings, type SystemName } from "./settings.ts"
import { checkTargets, targetLines } from "./targets.ts"
import { startBullmq } from "./systems/bullmq.ts"
import { startGraphileWorker } from "./systems/graphileWorker.ts"
import { startPgBoss } from "./systems/pgBoss.ts"
import { startService } from "./systems/service.ts"
import type { SystemUnderTest } from "./systems/types.ts"
import { cpus, loadavg } from "node:os"

const runId = Date.now()
const deadline = runStartedAt + settings.maxSeconds * 1000
/** Kept free at the end for closing systems, the report and the cleanup. */
const reserveMs = 45_000
const stopBy = deadline - reserveMs
const queues = scenarios.map((s) => s.key)

const main = async () => {
  const source = await sourceState()
  progress(`run ${runId}: ${settings.systems.join(", ")}; ${scenarios.length} scenarios; at most ${settings.maxSeconds} s`)
  const [receiver, broker] = await Promise.all([
    startReceiver(),
    settings.systems.includes("service") ? kafkaBroker(settings.kafkaBrokers, OWN_KAFKA_PORT) : Promise.resolve(undefined)
  ])
  progress(`receiver ${receiver.url} (pid ${receiver.pid})${broker ? `; Kafka ${broker.brokers.join(",")}` : ""}`)

  const rows: Array<Row> = []
  const notes: Array<string> = []
  const start = async (name: Exclude<SystemName, "ceiling" | "store-floor">): Promise<SystemUnderTest & { notes?: Array<string> }> => {
    switch (name) {
      case "service":
        return startService(runId, receiver.url, broker as Broker)
      case "bullmq":
        return startBullmq(runId, receiver.url, queues)
      case "graphile-worker":
        return startGraphileWorker(runId, receiver.url, queues)
      case "pg-boss":
        return startPgBoss(runId, receiver.url, queues)
    }
  }

  for (const name of settings.systems) {
    // A signal or the deadline started the cleanup: nothing new is started.
    if (isCleaningUp()) return
    if (wallNow() > stopBy - 30_000) {
      rows.push(skippedRow(name, "all", "skipped: the run's time (BENCH_MAX_SECONDS) is up"))
      continue
    }
    if (name === "ceiling") {
      progress("ceiling: plain POSTs to the receiver")
      rows.push(...await measureCeiling(receiver, [64, 128]))
      continue
    }
    if (name === "store-floor") {
      progress("store floor: the service's store statements alone")
      rows.push(await measureStoreFloor(runId).catch((e: unknown) =>
        skippedRow(storeFloorName, "-", `failed: ${e instanceof Error ? e.message.split("\n")[0]! : String(e)}`)
      ))
      continue
    }
    progress(`${name}: starting`)
    let system: (SystemUnderTest & { notes?: Array<string> }) | undefined
    try {
      system = await start(name)
      notes.push(`${system.name}: ${system.config}`)
      for (const scenario of scenarios) {
        if (isCleaningUp()) return
        if (!system.supports(scenario)) continue
        if (wallNow() > stopBy - 15_000) {
          if (!scenario.hidden) rows.push(skippedRow(system.name, scenario.label, "skipped: the run's time is up", scenario.key))
          continue
        }
        progress(`${system.name}: ${scenario.label}`)
        const row = await runScenario(system, scenario, receiver, { phaseTimeoutMs: settings.phaseTimeoutMs, stopBy })
        progress(`  ${row.delivered}/${row.produced} at ${Math.round(row.rate)}/s, p99 ${row.latency.p99.toFixed(1)} ms; ledger ${row.ledger.balanced ? "ok" : "VOID"}`)
        if (!scenario.hidden) rows.push(row)
      }
      notes.push(...(system.notes ?? []).map((n) => `${system!.name}: ${n}`))
    } catch (e) {
      const message = e instanceof Error ? e.message.split("\n")[0]! : String(e)
      progress(`${name} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
      rows.push(skippedRow(system?.name ?? name, "-", `failed: ${message}`))
    } finally {
      progress(`${name}: closing`)
      await system?.close()
    }
  }

  const cpu = cpus()[0]?.model ?? "?"
  const out = [
    "",
    `== bench:peers: webhook delivery, integration-service beside the job queues (run ${runId}, source ${source}) ==`,
    `machine: ${readCpuCount()} CPUs (${cpu}), shared with whatever else runs on it; load average at the end ` +
      `${loadavg().map((l) => l.toFixed(2)).join(" ")}; Node ${process.version}`,
    "",
    resultTable(rows),
    "",
    "deliveries/s: distinct receipts ÷ (first produce → last first receipt); p50/p99: produce/enqueue → first receipt",
    "(ceiling: request round trip); last at: first produce → last receipt; peak RSS and CPU: the worker process",
    "(ceiling: the client); store CPU: its database's PostgreSQL backends / Redis / the Kafka broker and Vault double.",
    "",
    ...(settings.systems.includes("service")
      ? ["the service's targets (README, Benchmarks):", ...targetLines(checkTargets(rows)).map((l) => `  ${l}`), ""]
      : []),
    "ledger (produced = delivered + pending + failed):",
    ...ledgerLines(rows).map((l) => `  ${l}`),
    "",
    "where the time went (the system's own records):",
    ...breakdownLines(rows).map((l) => `  ${l}`),
    "",
    "systems:",
    ...notes.map((n) => `  ${n}`),
    "",
    `rerun: npm run bench:peers   (settings: see bench/peers/main.ts)`
  ]
  process.stdout.write(`${out.join("\n")}\n`)
}

runBenchmark(main, settings.maxSeconds * 1000)
