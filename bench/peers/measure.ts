/**
 * One scenario on one system: produce (a burst, or a steady rate), wait until the
 * store says every delivery is done (or the phase times out), then read what the
 * receiver saw, the worker process's peak RSS and CPU, the store's CPU, and the
 * ledger.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cpuSecondsOf, cpuSnapshot, peakRss } from "../support/cpu.ts"
import type { Receiver } from "../support/receiver.ts"
import { type Distribution, distribution, fmt } from "../support/report.ts"
import { progress, sleep, wallNow } from "../support/run.ts"
import { checkLedger, type Ledger } from "./ledger.ts"
import { settings } from "./settings.ts"
import { type Envelope, expectedDeliveries, makeEvent, type Scenario, storeOf } from "./scenarios.ts"
import type { SystemUnderTest } from "./systems/types.ts"

export interface Row {
  readonly system: string
  readonly scenario: string
  /** The scenario's key (steady_500, burst, …; see ./scenarios.ts); absent on a system's failure row and the ceiling's. */
  readonly key?: string
  /** Deliveries that reached the receiver (distinct). */
  readonly delivered: number
  readonly produced: number
  /** Deliveries/s: distinct receipts ÷ (last first receipt − first produce). */
  readonly rate: number
  /** Produce/enqueue → receipt (for the ceiling: request round trip). */
  readonly latency: Distribution
  /** First produce → last receipt, seconds. */
  readonly seconds: number
  readonly rssMb: number
  readonly cpuPer1k: number
  readonly storeCpuPer1k: number
  readonly ledger: Ledger
  readonly complete: boolean
  readonly note?: string
  /** The system's own account of where the time went. */
  readonly breakdown?: string
}

export const skippedRow = (system: string, scenario: string, note: string, key?: string): Row => ({
  system,
  scenario,
  ...(key === undefined ? {} : { key }),
  delivered: 0,
  produced: 0,
  rate: Number.NaN,
  latency: distribution([]),
  seconds: Number.NaN,
  rssMb: Number.NaN,
  cpuPer1k: Number.NaN,
  storeCpuPer1k: Number.NaN,
  ledger: { balanced: false, text: note },
  complete: false,
  note
})

/** One line per delivery, in order of production: its produce and first receipt, ms since the first produce. */
const writeReceipts = (system: string, key: string, receipts: ReadonlyArray<{ sent: number; at: number }>) => {
  mkdirSync(settings.receiptsDir, { recursive: true })
  const t0 = receipts.reduce((m, r) => Math.min(m, r.sent), Infinity)
  const lines = [...receipts].sort((a, b) => a.sent - b.sent).map((r) => `${(r.sent - t0).toFixed(1)},${(r.at - t0).toFixed(1)}`)
  const name = `${system}-${key}.csv`.replace(/[^A-Za-z0-9_.-]+/g, "_")
  writeFileSync(join(settings.receiptsDir, name), `sent_ms,received_ms\n${lines.join("\n")}\n`)
}

/** How often a scenario in progress says how far it got. */
const progressEveryMs = 5000

const burstChunk = 500
const burstInFlight = 4

/** All events at once: chunks of 500, a few in flight (as a platform service publishing a backlog would). */
const produceBurst = async (system: SystemUnderTest, scenario: Scenario) => {
  const sends: Array<Promise<unknown>> = []
  for (let i = 0; i < scenario.events; i += burstChunk) {
    const events = Array.from({ length: Math.min(burstChunk, scenario.events - i) }, () => makeEvent(scenario, storeOf(scenario)))
    sends.push(system.produce(scenario, events))
    if (sends.length >= burstInFlight) await sends.shift()
  }
  await Promise.all(sends)
  return scenario.events
}

/** `rate` events/s for `seconds`, in 5 ms ticks; each event is stamped when it is made. */
const produceSteady = async (system: SystemUnderTest, scenario: Scenario) => {
  const start = wallNow()
  const total = Math.round(scenario.rate * scenario.seconds)
  let sent = 0
  const inFlight = new Set<Promise<unknown>>()
  let failure: unknown
  while (sent < total && failure === undefined) {
    const due = Math.min(total, Math.floor(((wallNow() - start) / 1000) * scenario.rate)) - sent
    if (due > 0) {
      const events: Array<Envelope> = Array.from({ length: due }, () => makeEvent(scenario, storeOf(scenario)))
      sent += due
      const send = system.produce(scenario, events).catch((e: unknown) => void (failure ??= e))
      inFlight.add(send)
      void send.finally(() => inFlight.delete(send))
    }
    await sleep(5)
  }
  await Promise.all(inFlight)
  if (failure !== undefined) throw failure
  return sent
}

export const runScenario = async (
  system: SystemUnderTest,
  scenario: Scenario,
  receiver: Receiver,
  options: { readonly phaseTimeoutMs: number; readonly stopBy: number }
): Promise<Row> => {
  await receiver.reset()
  await system.begin(scenario)
  const cpu0 = cpuSnapshot()
  const rss = peakRss(system.workerPid)
  const start = wallNow()
  const events = scenario.kind === "burst" ? await produceBurst(system, scenario) : await produceSteady(system, scenario)
  const produced = expectedDeliveries(scenario, events)

  // Until the store says all is done: every delivery delivered or failed, nothing pending.
  // The store is asked only once the receiver has everything, and for a progress line every
  // few seconds: its counts scan a system's tables, work the system itself would be charged for.
  const deadline = Math.min(wallNow() + options.phaseTimeoutMs, options.stopBy)
  let counts = await system.counts(scenario)
  let lastCount = wallNow()
  let complete = false
  for (;;) {
    const stats = await receiver.stats()
    if (stats.count >= produced || wallNow() - lastCount >= progressEveryMs) {
      counts = await system.counts(scenario)
      if (wallNow() - lastCount >= progressEveryMs && wallNow() - start > 2000) {
        progress(`  +${((wallNow() - start) / 1000).toFixed(1)}s: received ${fmt(stats.count)}/${fmt(produced)}; ${counts.detail}`)
      }
      lastCount = wallNow()
    }
    if (counts.pending === 0 && (counts.delivered ?? stats.count) + counts.failed >= produced) {
      complete = true
      break
    }
    if (wallNow() > deadline) {
      progress(`  ${scenario.label}: not done within the phase timeout`)
      break
    }
    await sleep(stats.count >= produced ? 50 : 100)
  }
  const cpu1 = cpuSnapshot()
  const rssMb = rss.stop()
  const [records, owns] = await Promise.all([receiver.take(), system.owns(scenario)])
  counts = await system.counts(scenario)
  const breakdown = system.breakdown ? await system.breakdown(scenario) : undefined
  await system.end(scenario)

  // The first receipt of each delivery counts; repeats (at-least-once) are counted apart.
  const first = new Map<string, { sent: number; at: number }>()
  let foreign = 0
  let duplicates = 0
  for (const [id, sent, at] of records) {
    if (!owns(id)) foreign++
    else if (first.has(id)) duplicates++
    else first.set(id, { sent, at })
  }
  const receipts = [...first.values()]
  if (settings.receiptsDir !== "") writeReceipts(system.name, scenario.key, receipts)
  const lastReceipt = receipts.length > 0 ? receipts.reduce((m, r) => Math.max(m, r.at), -Infinity) : Number.NaN
  const seconds = (lastReceipt - start) / 1000
  const delivered = first.size
  const perThousand = (cpuSeconds: number) => (delivered > 0 ? cpuSeconds / (delivered / 1000) : Number.NaN)
  return {
    system: system.name,
    scenario: scenario.label,
    key: scenario.key,
    delivered,
    produced,
    rate: delivered / seconds,
    latency: distribution(receipts.map((r) => r.at - r.sent)),
    seconds,
    rssMb,
    cpuPer1k: perThousand(cpuSecondsOf(cpu0, cpu1, (pid) => pid === system.workerPid)),
    storeCpuPer1k: perThousand(cpuSecondsOf(cpu0, cpu1, system.isStore)),
    ledger: checkLedger(produced, { distinct: delivered, duplicates, foreign }, counts),
    complete,
    ...(complete ? {} : { note: "not done within the phase timeout: rates cover what arrived" }),
    ...(breakdown === undefined ? {} : { breakdown })
  }
}
