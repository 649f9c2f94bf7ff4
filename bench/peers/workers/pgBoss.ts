/**
 * pg-boss workers: `workers` polling loops per queue (scenario), each fetching
 * batches of `batchSize` (256) and delivering a batch all at once. Deliveries
 * that failed are failed by id (pg-boss retries them with the queue's retry
 * settings); the rest of the batch completes when the handler returns.
 */
import PgBoss from "pg-boss"
import { makeDeliver, type DeliveryJob } from "./deliver.ts"
import { serveWorker } from "./protocol.ts"

void serveWorker(async (settings) => {
  const { connectionString, batchSize, workers, pollingIntervalSeconds, poolSize } = settings.system as {
    connectionString: string
    batchSize: number
    workers: number
    pollingIntervalSeconds: number
    poolSize: number
  }
  const { deliver, close } = makeDeliver(settings.secrets, settings.timeoutMs)
  // The defaults otherwise: this instance also runs pg-boss's maintenance and monitoring.
  const boss = new PgBoss({ connectionString, max: poolSize })
  boss.on("error", (e) => process.stderr.write(`pg-boss: ${e.message}\n`))
  await boss.start()
  return {
    start: async (queue) => {
      for (let i = 0; i < workers; i++) {
        await boss.work<DeliveryJob>(queue, { batchSize, pollingIntervalSeconds }, async (jobs) => {
          const results = await Promise.allSettled(jobs.map((job) => deliver(job.data)))
          const failed = jobs.filter((_, i) => results[i]!.status === "rejected").map((job) => job.id)
          if (failed.length > 0) await boss.fail(queue, failed)
        })
      }
    },
    stop: (queue) => boss.offWork(queue),
    close: async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 })
      await close()
    }
  }
})
