/**
 * pg-boss on PostgreSQL: the application enqueues with `insert` (a multi-row
 * insert; retryLimit 4, so 5 attempts, backoff from 1 minute) into a queue per
 * scenario; a worker process runs `workers` polling loops of batches of 256. Its
 * own database, dropped at the end.
 */
import { createRequire } from "node:module"
import PgBoss from "pg-boss"
import pg from "pg"
import { commandLine } from "../../support/cpu.ts"
import { createDatabase } from "../../support/database.ts"
import { cleanupScope } from "../../support/run.ts"
import type { Scenario } from "../scenarios.ts"
import { ATTEMPTS, settings } from "../settings.ts"
import { startWorkerProcess } from "../workerProcess.ts"
import { describe, ownsByPrefix, peerJobs, peerSecrets, type SystemUnderTest } from "./types.ts"

const version = (createRequire(import.meta.url)("pg-boss/package.json") as { version: string }).version

export const startPgBoss = async (runId: number, receiverUrl: string, queues: ReadonlyArray<string>): Promise<SystemUnderTest> => {
  const databaseName = `is_peers_${runId}_pgboss`
  const scope = cleanupScope()
  const connectionString = await createDatabase(settings.adminDatabaseUrl, databaseName, scope)
  const retry = { retryLimit: ATTEMPTS - 1, retryDelay: 60, retryBackoff: true }
  // The application's side: enqueues only (the worker process runs maintenance).
  const boss = new PgBoss({ connectionString, max: 4, supervise: false, schedule: false })
  boss.on("error", (e) => process.stderr.write(`pg-boss (enqueue): ${e.message}\n`))
  await boss.start()
  scope.add("pg-boss (enqueue side)", () => boss.stop({ graceful: false, wait: true, timeout: 5_000 }))
  for (const queue of queues) await boss.createQueue(queue, { name: queue, ...retry })
  const observer = new pg.Client({ connectionString })
  await observer.connect()
  scope.add("pg-boss observer connection", () => observer.end())

  const worker = await startWorkerProcess("pgBoss.ts", {
    secrets: peerSecrets(settings.fanout),
    timeoutMs: settings.timeoutMs,
    queues,
    system: {
      connectionString,
      batchSize: settings.pgBossBatch,
      workers: settings.pgBossWorkers,
      pollingIntervalSeconds: settings.pgBossPollSeconds,
      poolSize: settings.pgBossWorkers + 4
    }
  }, scope)

  return {
    name: `pg-boss ${version}`,
    config: `${settings.pgBossWorkers} work() loops × batches of ${settings.pgBossBatch}, polling every ${settings.pgBossPollSeconds} s, insert`,
    workerPid: worker.pid,
    isStore: (pid, comm) => comm === "postgres" && commandLine(pid).includes(` ${databaseName} `),
    supports: (scenario) => !scenario.serviceOnly,
    begin: (scenario) => worker.start(scenario.key),
    produce: (scenario, events) =>
      boss.insert(peerJobs(receiverUrl, scenario, events).map((data) => ({ name: scenario.key, data, ...retry }))),
    counts: async (scenario: Scenario) => {
      const rows = await observer.query<{ state: string; n: number }>(
        `SELECT state::text, count(*)::int AS n FROM (
           SELECT state FROM pgboss.job WHERE name = $1
           UNION ALL SELECT state FROM pgboss.archive WHERE name = $1) s
         GROUP BY 1`,
        [scenario.key]
      )
      const c: Record<string, number> = Object.fromEntries(rows.rows.map((r) => [r.state, r.n]))
      const n = (k: string) => c[k] ?? 0
      return {
        delivered: n("completed"),
        pending: n("created") + n("retry") + n("active"),
        failed: n("failed") + n("cancelled"),
        detail: describe(c)
      }
    },
    owns: ownsByPrefix,
    end: (scenario) => worker.stop(scenario.key),
    close: scope.close
  }
}
