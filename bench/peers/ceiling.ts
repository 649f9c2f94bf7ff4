/**
 * The receiver's own ceiling in the same run: plain POSTs of an event's body from
 * a process of their own (no queue, no signing, no store), at each concurrency a
 * system under test uses. Latency is the request's round trip.
 */
import { cpuSecondsOf, cpuSnapshot, peakRss } from "../support/cpu.ts"
import type { PlainPostsResult } from "../support/ceiling.ts"
import type { Receiver } from "../support/receiver.ts"
import { cleanupScope } from "../support/run.ts"
import { checkLedger } from "./ledger.ts"
import type { Row } from "./measure.ts"
import { makeEvent, storeOf, warmup } from "./scenarios.ts"
import { settings } from "./settings.ts"
import { startWorkerProcess } from "./workerProcess.ts"

export const measureCeiling = async (receiver: Receiver, concurrencies: ReadonlyArray<number>): Promise<Array<Row>> => {
  const scope = cleanupScope()
  const body = JSON.stringify(makeEvent(warmup, storeOf(warmup)))
  const client = await startWorkerProcess("plain.ts", {
    secrets: {},
    timeoutMs: settings.timeoutMs,
    queues: [],
    system: { url: `${receiver.url}/ceiling`, body, requests: settings.ceilingRequests }
  }, scope)
  const rows: Array<Row> = []
  try {
    // A short round first: connections, JIT.
    await client.start("warmup-16")
    await client.result(60_000)
    for (const concurrency of concurrencies) {
      await receiver.reset()
      const cpu0 = cpuSnapshot()
      const rss = peakRss(client.pid)
      await client.start(`ceiling-${concurrency}`)
      const result = await client.result<PlainPostsResult>(120_000)
      const cpu1 = cpuSnapshot()
      const rssMb = rss.stop()
      const stats = await receiver.stats()
      const perThousand = (cpuSeconds: number) => cpuSeconds / (result.requests / 1000)
      rows.push({
        system: "receiver ceiling (plain POSTs)",
        scenario: `${result.requests} requests, concurrency ${concurrency}`,
        delivered: stats.count,
        produced: result.requests + result.errors,
        rate: result.rate,
        latency: result.latency,
        seconds: result.seconds,
        rssMb,
        cpuPer1k: perThousand(cpuSecondsOf(cpu0, cpu1, (pid) => pid === client.pid)),
        storeCpuPer1k: Number.NaN,
        ledger: checkLedger(
          result.requests + result.errors,
          { distinct: stats.count, duplicates: 0, foreign: 0 },
          { delivered: result.requests, pending: 0, failed: result.errors, detail: `${result.requests} answered 2xx, ${result.errors} errors` }
        ),
        complete: true
      })
    }
  } finally {
    await scope.close()
  }
  return rows
}
