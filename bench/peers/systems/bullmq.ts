/**
 * BullMQ on Redis: the application enqueues with `addBulk` (attempts 5,
 * exponential backoff from 1 minute), a worker process runs a `Worker` with
 * concurrency 64 per queue. Completed jobs are kept (the service keeps a row per
 * delivery too), which also lets the ledger count them from Redis;
 * BENCH_BULLMQ_KEEP_COMPLETED=0 removes them instead (the ledger then counts
 * deliveries at the receiver). All keys live under a prefix of this run and are
 * deleted at the end.
 */
import { Queue } from "bullmq"
import { Redis } from "ioredis"
import { createRequire } from "node:module"
import { cleanupScope } from "../../support/run.ts"
import type { Scenario } from "../scenarios.ts"
import { ATTEMPTS, settings } from "../settings.ts"
import { startWorkerProcess } from "../workerProcess.ts"
import { describe, ownsByPrefix, peerJobs, peerSecrets, type SystemUnderTest } from "./types.ts"

const version = (createRequire(import.meta.url)("bullmq/package.json") as { version: string }).version

export const startBullmq = async (runId: number, receiverUrl: string, queues: ReadonlyArray<string>): Promise<SystemUnderTest> => {
  const url = new URL(settings.redisUrl)
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null }
  const prefix = `bench-peers-${runId}`
  const scope = cleanupScope()
  const redis = new Redis(connection)
  const deleteKeys = async () => {
    let cursor = "0"
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000)
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== "0")
  }
  scope.add(`BullMQ keys ${prefix}:*`, async () => {
    await deleteKeys()
    redis.disconnect()
  })
  const info = await redis.info("server")
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? "?"
  const redisPids = new Set((/process_id:(\d+)/.exec(info)?.slice(1) ?? []).map(Number))

  const open = new Map<string, Queue>()
  scope.add("BullMQ queues (enqueue side)", () => Promise.all([...open.values()].map((q) => q.close())))
  const worker = await startWorkerProcess("bullmq.ts", {
    secrets: peerSecrets(settings.fanout),
    timeoutMs: settings.timeoutMs,
    queues,
    system: { host: connection.host, port: connection.port, prefix, concurrency: settings.bullmqConcurrency }
  }, scope)
  const queueOf = (scenario: Scenario) => {
    const existing = open.get(scenario.key)
    if (existing) return existing
    const queue = new Queue(scenario.key, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: ATTEMPTS,
        backoff: { type: "exponential", delay: 60_000 },
        removeOnComplete: !settings.bullmqKeepCompleted,
        removeOnFail: false
      }
    })
    open.set(scenario.key, queue)
    return queue
  }

  return {
    name: `BullMQ ${version}`,
    config: `Redis ${redisVersion}, one Worker per queue, concurrency ${settings.bullmqConcurrency}, addBulk, ` +
      `completed jobs ${settings.bullmqKeepCompleted ? "kept" : "removed"}`,
    workerPid: worker.pid,
    // Redis on the same machine (by its pid when it tells, else by name).
    isStore: (pid, comm) => (redisPids.size > 0 ? redisPids.has(pid) : comm === "redis-server"),
    supports: (scenario) => !scenario.serviceOnly,
    begin: async (scenario) => {
      await queueOf(scenario).waitUntilReady()
      await worker.start(scenario.key)
    },
    produce: async (scenario, events) => {
      const jobs = peerJobs(receiverUrl, scenario, events)
      await queueOf(scenario).addBulk(jobs.map((data) => ({ name: "deliver", data })))
    },
    counts: async (scenario) => {
      const c = await queueOf(scenario).getJobCounts(
        "completed", "failed", "active", "wait", "delayed", "prioritized", "paused", "waiting-children"
      )
      const n = (k: string) => c[k] ?? 0
      return {
        delivered: settings.bullmqKeepCompleted ? n("completed") : undefined,
        pending: n("active") + n("wait") + n("delayed") + n("prioritized") + n("paused") + n("waiting-children"),
        failed: n("failed"),
        detail: describe(c)
      }
    },
    owns: ownsByPrefix,
    end: (scenario) => worker.stop(scenario.key),
    close: scope.close
  }
}
