/**
 * graphile-worker: one runner with `concurrency` (64) jobs at once, a task per
 * queue (scenario) known up front, woken by its LISTEN/NOTIFY on every new job;
 * a task that throws is retried with graphile-worker's exponential backoff.
 */
import { Logger, run, type Runner, type TaskList } from "graphile-worker"
import { makeDeliver, type DeliveryJob } from "./deliver.ts"
import { serveWorker } from "./protocol.ts"

void serveWorker(async (settings) => {
  const { connectionString, concurrency, maxPoolSize } = settings.system as {
    connectionString: string
    concurrency: number
    maxPoolSize: number
  }
  const { deliver, close } = makeDeliver(settings.secrets, settings.timeoutMs)
  const task = (payload: unknown) => deliver(payload as DeliveryJob)
  const taskList: TaskList = Object.fromEntries(settings.queues.map((queue) => [queue, task]))
  // Errors only: a log line per job would be a cost the other systems do not pay.
  const logger = new Logger(() => (level, message) => {
    if (level === "error") process.stderr.write(`graphile-worker: ${message}\n`)
  })
  const runner: Runner = await run({ connectionString, concurrency, maxPoolSize, taskList, logger, noHandleSignals: true })
  return {
    // Every task runs from the start; an idle task costs nothing.
    start: async () => {},
    stop: async () => {},
    close: async () => {
      await runner.stop()
      await close()
    }
  }
})
