/**
 * graphile-worker on PostgreSQL: the application enqueues with the documented
 * bulk SQL API `graphile_worker.add_jobs(job_spec[])` (max_attempts 5); the
 * worker process runs one runner, concurrency 64, woken by LISTEN/NOTIFY. Done
 * jobs are deleted, so the ledger's "delivered" is the receiver's count; what
 * is left in the table is pending or failed. Its own database, dropped at the end.
 */
import { createRequire } from "node:module"
import pg from "pg"
import { commandLine } from "../../support/cpu.ts"
import { createDatabase } from "../../support/database.ts"
import { cleanupScope } from "../../support/run.ts"
import { ATTEMPTS, settings } from "../settings.ts"
import { startWorkerProcess } from "../workerProcess.ts"
import { ownsByPrefix, peerJobs, peerSecrets, type SystemUnderTest } from "./types.ts"

const version = (createRequire(import.meta.url)("graphile-worker/package.json") as { version: string }).version

export const startGraphileWorker = async (
  runId: number,
  receiverUrl: string,
  queues: ReadonlyArray<string>
): Promise<SystemUnderTest> => {
  const databaseName = `is_peers_${runId}_graphile`
  const scope = cleanupScope()
  const connectionString = await createDatabase(settings.adminDatabaseUrl, databaseName, scope)
  // The worker installs its schema when it starts; the application enqueues afterwards.
  const worker = await startWorkerProcess("graphileWorker.ts", {
    secrets: peerSecrets(settings.fanout),
    timeoutMs: settings.timeoutMs,
    queues,
    system: { connectionString, concurrency: settings.graphileConcurrency, maxPoolSize: settings.graphilePool }
  }, scope)
  const pool = new pg.Pool({ connectionString, max: 4 })
  scope.add("graphile-worker (enqueue side)", () => pool.end())

  return {
    name: `graphile-worker ${version}`,
    config: `concurrency ${settings.graphileConcurrency}, pool ${settings.graphilePool}, add_jobs`,
    workerPid: worker.pid,
    isStore: (pid, comm) => comm === "postgres" && commandLine(pid).includes(` ${databaseName} `),
    supports: (scenario) => !scenario.serviceOnly,
    begin: (scenario) => worker.start(scenario.key),
    produce: async (scenario, events) => {
      const specs = peerJobs(receiverUrl, scenario, events).map((payload) => ({
        identifier: scenario.key,
        payload,
        max_attempts: ATTEMPTS
      }))
      await pool.query(
        "SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(SELECT json_populate_recordset(NULL::graphile_worker.job_spec, $1::json)))",
        [JSON.stringify(specs)]
      )
    },
    counts: async (scenario) => {
      const { rows } = await pool.query<{ pending: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE attempts < max_attempts)::int AS pending,
                count(*) FILTER (WHERE attempts >= max_attempts)::int AS failed
         FROM graphile_worker.jobs WHERE task_identifier = $1`,
        [scenario.key]
      )
      const { pending, failed } = rows[0]!
      return { delivered: undefined, pending, failed, detail: `jobs left: ${pending} pending, ${failed} failed` }
    },
    owns: ownsByPrefix,
    end: (scenario) => worker.stop(scenario.key),
    close: scope.close
  }
}
