/**
 * BullMQ workers: one `Worker` per queue (scenario) with `concurrency` jobs at
 * once (64), the delivery as the processor; a job that throws is retried by
 * BullMQ with the attempts and backoff it was enqueued with.
 */
import { Worker } from "bullmq"
import { makeDeliver, type DeliveryJob } from "./deliver.ts"
import { serveWorker } from "./protocol.ts"

void serveWorker(async (settings) => {
  const { host, port, prefix, concurrency } = settings.system as { host: string; port: number; prefix: string; concurrency: number }
  const { deliver, close } = makeDeliver(settings.secrets, settings.timeoutMs)
  const workers = new Map<string, Worker>()
  return {
    start: async (queue) => {
      const worker = new Worker<DeliveryJob>(queue, (job) => deliver(job.data), {
        connection: { host, port, maxRetriesPerRequest: null },
        prefix,
        concurrency
      })
      worker.on("error", (e) => process.stderr.write(`bullmq worker: ${e.message}\n`))
      await worker.waitUntilReady()
      workers.set(queue, worker)
    },
    stop: async (queue) => {
      await workers.get(queue)?.close()
      workers.delete(queue)
    },
    close: async () => {
      await Promise.all([...workers.values()].map((w) => w.close()))
      await close()
    }
  }
})
