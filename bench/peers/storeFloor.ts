/**
 * The store's floor in the same run: the service's own delivery-store statements
 * for a burst to one subscription with nothing else on the way (no Kafka, no
 * HTTP, no engine; bench/support/storeFloorProcess.ts). However fast the rest of
 * the service became, a delivery still costs PostgreSQL this much: the row
 * inserted and leased, its result, its attempt history, its announcement in the
 * outbox and taken out again. The table's store CPU column is that; its CPU
 * column is the statements' client side (the service's own code and `pg`).
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { join } from "node:path"
import { cpuSecondsOf, cpuSnapshot, commandLine, peakRss } from "../support/cpu.ts"
import { createDatabase } from "../support/database.ts"
import { distribution } from "../support/report.ts"
import { cleanupScope, registerIn, repoRoot, withTimeout } from "../support/run.ts"
import { checkLedger } from "./ledger.ts"
import type { Row } from "./measure.ts"
import { settings } from "./settings.ts"

const writers = 3
const batch = 64

interface FloorResult {
  readonly delivered: number
  readonly seconds: number
  readonly cpuSeconds: number
  readonly pending: number
  readonly outboxLeft: number
}

export const storeFloorName = "store floor (its statements alone)"

export const measureStoreFloor = async (runId: number): Promise<Row> => {
  const scope = cleanupScope()
  try {
    const databaseName = `is_peers_${runId}_floor`
    const url = await createDatabase(settings.adminDatabaseUrl, databaseName, scope)
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "bench", "support", "storeFloorProcess.ts")], {
      cwd: repoRoot,
      env: {
        ...process.env,
        FLOOR_DATABASE_URL: url,
        FLOOR_DELIVERIES: String(settings.burst),
        FLOOR_BATCH: String(batch),
        FLOOR_WRITERS: String(writers),
        BENCH_PAYLOAD_BYTES: String(settings.payloadBytes)
      },
      stdio: ["pipe", "pipe", "inherit"]
    })
    registerIn(scope)("store floor process", async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    })
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    // The next line of ours (`floor:<what>`), past the process's log lines.
    const nextLine = (what: string, ms: number) =>
      withTimeout(`store floor ${what}`, ms, (async () => {
        for (;;) {
          const line = await lines.next()
          if (line.done) throw new Error(`the store floor process ended before ${what} (${child.exitCode ?? child.signalCode})`)
          if (line.value.startsWith(`floor:${what}`)) return line.value.slice(`floor:${what}`.length).trim()
        }
      })())
    await nextLine("ready", 120_000)
    const isStore = (pid: number, comm: string) => comm === "postgres" && commandLine(pid).includes(` ${databaseName} `)
    const cpu0 = cpuSnapshot()
    const rss = peakRss(child.pid!)
    child.stdin!.write("go\n")
    const result = JSON.parse(await nextLine("result", settings.phaseTimeoutMs * 2)) as FloorResult
    const cpu1 = cpuSnapshot()
    const rssMb = rss.stop()
    const storeCpu = cpuSecondsOf(cpu0, cpu1, isStore)
    child.stdin!.write("end\n")
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
      storeCpuPer1k: perThousand(storeCpu),
      ledger: result.outboxLeft === 0 ? ledger : { balanced: false, text: `VOID: ${result.outboxLeft} outbox messages left — ${ledger.text}` },
      complete: true,
      note: `${writers} loops of ${batch} events: fan-out claimed, results, outbox relay; no Kafka, no HTTP`
    }
  } finally {
    await scope.close()
  }
}
