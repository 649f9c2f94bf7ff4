/**
 * The store's floor in the same run: the service's own delivery-store statements
 * for a burst to one subscription with nothing else on the way (no Kafka, no
 * HTTP, no engine; ../support/storeFloor.ts, in a worker process of its own).
 * However fast the rest of the service became, a delivery still costs PostgreSQL
 * this much: the row inserted and leased, its result, its attempt history, its
 * announcement in the outbox and taken out again. The table's store CPU column is
 * that; its CPU column is the statements' client side (the service's own code and `pg`).
 */
import { join } from "node:path"
import { cpuSecondsOf, cpuSnapshot, commandLine, peakRss } from "../support/cpu.ts"
import { createDatabase } from "../support/database.ts"
import { distribution } from "../support/report.ts"
import { cleanupScope, repoRoot } from "../support/run.ts"
import type { StoreFloorResult, StoreFloorSettings } from "../support/storeFloorShape.ts"
import { checkLedger } from "./ledger.ts"
import type { Row } from "./measure.ts"
import { settings } from "./settings.ts"
import { startWorkerProcess } from "./workerProcess.ts"

const writers = 3
const batch = 64

export const storeFloorName = "store floor (its statements alone)"

export const measureStoreFloor = async (runId: number): Promise<Row> => {
  const scope = cleanupScope()
  try {
    const databaseName = `is_peers_${runId}_floor`
    const url = await createDatabase(settings.adminDatabaseUrl, databaseName, scope)
    const system: StoreFloorSettings = { url, deliveries: settings.burst, batch, writers, payloadBytes: settings.payloadBytes }
    // Closed by the scope (before the database is dropped): until then its connections show its backends.
    const worker = await startWorkerProcess(join(repoRoot, "bench", "support", "storeFloorWorker.ts"), { secrets: {}, timeoutMs: settings.timeoutMs, queues: [], system: { ...system } }, scope)
    const isStore = (pid: number, comm: string) => comm === "postgres" && commandLine(pid).includes(` ${databaseName} `)
    const cpu0 = cpuSnapshot()
    const rss = peakRss(worker.pid)
    await worker.start("floor")
    const result = await worker.result<StoreFloorResult>(settings.phaseTimeoutMs * 2)
    const cpu1 = cpuSnapshot()
    const rssMb = rss.stop()
    const perThousand = (cpuSeconds: number) => cpuSeconds / (result.delivered / 1000)
    const ledger = checkLedger(
      settings.burst,
      // No receiver in this row: what the store recorded as answered stands for it.
      { distinct: result.delivered, duplicates: 0, foreign: 0 },
      {
        delivered: result.delivered,
        pending: result.pending,
        failed: 0,
        detail: `DELIVERED ${result.delivered}, not delivered ${result.pending}, outbox left ${result.outboxLeft}`
      }
    )
    return {
      system: storeFloorName,
      scenario: `burst ${settings.burst} × 1`,
      delivered: result.delivered,
      produced: settings.burst,
      rate: result.delivered / result.seconds,
      latency: distribution([]),
      seconds: result.seconds,
      rssMb,
      cpuPer1k: perThousand(result.cpuSeconds),
      storeCpuPer1k: perThousand(cpuSecondsOf(cpu0, cpu1, isStore)),
      ledger: result.outboxLeft === 0 ? ledger : { balanced: false, text: `VOID: ${result.outboxLeft} outbox messages left — ${ledger.text}` },
      complete: true,
      note: `${writers} loops of ${batch} events: fan-out claimed, results, outbox relay; no Kafka, no HTTP`
    }
  } finally {
    await scope.close()
  }
}
