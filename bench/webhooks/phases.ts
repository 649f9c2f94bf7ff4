/**
 * The three measured phases, run one after the other against the same service:
 * the receiver's ceiling, a burst (throughput) and a steady rate (latency).
 * Each returns its raw measurements; ./report.ts turns them into text.
 */
import type { Producer } from "kafkajs"
import type pg from "pg"
import { plainPosts } from "../support/ceiling.ts"
import { cpuSnapshot } from "../support/cpu.ts"
import type { Receiver } from "../support/receiver.ts"
import { distribution, fmt } from "../support/report.ts"
import { progress, sleep, wallNow } from "../support/run.ts"
import { takeSpanStats } from "../support/spanStats.ts"
import { makeEvent, publishBurst, publishSteady } from "./events.ts"
import { awaitDelivered, databaseState, deliveryRows } from "./observe.ts"
import { settings, storeIds, types } from "./settings.ts"

/** What the phases drive and observe the service with. */
export interface Rig {
  readonly producer: Producer
  /** The bench's own connection to the service's database. */
  readonly db: pg.Client
  readonly receiver: Receiver
}

// ---------------------------------------------------------------------------
// 1. ceiling: plain undici POSTs of an event's size, as many at once as the workers run

export const ceilingPhase = async ({ receiver }: Rig) => {
  const sampleBody = new TextEncoder().encode(makeEvent(types.burst, storeIds[0]!).value)
  progress(`ceiling: plain undici POSTs (${sampleBody.byteLength}-byte body, concurrency ${settings.ceilingConcurrency}) for ${settings.ceilingSeconds} s`)
  const cpuBefore = cpuSnapshot()
  const top = await plainPosts({
    url: `${receiver.url}/ceiling`,
    body: sampleBody,
    headers: { "x-ss3-event": types.burst, "x-ss3-signature": `sha256=${"0".repeat(64)}` },
    concurrency: settings.ceilingConcurrency,
    seconds: settings.ceilingSeconds
  })
  const cpuAfter = cpuSnapshot()
  await receiver.reset()
  progress(`ceiling: ${fmt(top.rate)} requests/s (${top.errors} errors)`)
  return { sampleBody, top, cpuBefore, cpuAfter }
}
export type CeilingResult = Awaited<ReturnType<typeof ceilingPhase>>

// ---------------------------------------------------------------------------
// 2. throughput: a burst of events, each matching `fanout` subscriptions, published as fast as possible

export const throughputPhase = async ({ db, producer, receiver }: Rig, fanout: number) => {
  const expected = settings.events * fanout
  takeSpanStats()
  const elu0 = performance.eventLoopUtilization()
  const cpuBefore = cpuSnapshot()
  progress(`throughput: publishing ${settings.events} events (${expected} deliveries)`)
  const publishStart = wallNow()
  await publishBurst(producer, types.burst, settings.events)
  const publishEnd = wallNow()
  progress(`  published in ${fmt(publishEnd - publishStart)} ms`)
  const wait = await awaitDelivered(db, receiver, types.burst, expected, publishStart)
  const done = wallNow()
  const cpuAfter = cpuSnapshot()
  const elu = performance.eventLoopUtilization(elu0)
  const spans = takeSpanStats()
  const received = await receiver.take()
  const rows = await deliveryRows(db, types.burst)
  const state = await databaseState(db, types.burst)

  const createdTimes = rows.map((r) => r.created)
  const deliveredTimes = rows.flatMap((r) => (r.delivered === null ? [] : [r.delivered]))
  const lastCreated = Math.max(...createdTimes)
  const firstCreated = Math.min(...createdTimes)
  const lastDelivered = deliveredTimes.length ? Math.max(...deliveredTimes) : Number.NaN
  const receivedTimes = received.map((r) => r[2])
  const firstReceived = Math.min(...receivedTimes)
  const lastReceived = Math.max(...receivedTimes)
  const uniqueReceived = new Set(received.map((r) => r[0])).size
  const delivered = state.statuses.find((r) => r.status === "DELIVERED")?.n ?? 0
  const rates = {
    publishRate: settings.events / ((publishEnd - publishStart) / 1000),
    fanoutSeconds: (lastCreated - publishStart) / 1000,
    fanoutEventsRate: settings.events / ((lastCreated - publishStart) / 1000),
    fanoutRowsRate: rows.length / ((lastCreated - publishStart) / 1000),
    fanoutRowsRateWindow: rows.length / ((lastCreated - firstCreated) / 1000),
    receiveRate: received.length / ((lastReceived - firstReceived) / 1000),
    endToEndSeconds: (lastDelivered - publishStart) / 1000,
    endToEndRate: delivered / ((lastDelivered - publishStart) / 1000)
  }
  return {
    fanout,
    expected,
    publishStart,
    publishEnd,
    complete: wait.complete,
    done,
    cpuBefore,
    cpuAfter,
    elu,
    spans,
    received,
    rows,
    state,
    delivered,
    uniqueReceived,
    firstReceived,
    lastReceived,
    rates
  }
}
export type ThroughputResult = Awaited<ReturnType<typeof throughputPhase>>

// ---------------------------------------------------------------------------
// 3. latency: BENCH_RATE events/s, each matching `fanout` subscriptions; publish → receiver, with a breakdown

export const latencyPhase = async ({ db, producer, receiver }: Rig, fanout: number) => {
  await sleep(500)
  await receiver.reset()
  takeSpanStats()
  const elu0 = performance.eventLoopUtilization()
  const cpuBefore = cpuSnapshot()
  progress(`latency: ${settings.rate} events/s for ${settings.rateSeconds} s (${fanout} subscription(s) per event)`)
  const start = wallNow()
  const steady = await publishSteady(producer, types.steady, settings.rate, settings.rateSeconds)
  const expected = steady.sent * fanout
  const wait = await awaitDelivered(db, receiver, types.steady, expected, start)
  const cpuAfter = cpuSnapshot()
  const elu = performance.eventLoopUtilization(elu0)
  const spans = takeSpanStats()
  const received = await receiver.take()
  const rows = await deliveryRows(db, types.steady)

  const firstReceive = new Map<string, number>()
  for (const [id, , at] of received) if (!firstReceive.has(id)) firstReceive.set(id, at)
  const endToEnd = distribution(received.map(([, sent, at]) => at - sent))
  const kafkaToRow = distribution(rows.map((r) => (r.sent === null ? Number.NaN : r.created - r.sent)))
  const rowToReceive = distribution(rows.map((r) => (firstReceive.get(r.delivery_id) ?? Number.NaN) - r.created))
  const receiveToRecorded = distribution(
    rows.map((r) => (r.delivered === null ? Number.NaN : r.delivered - (firstReceive.get(r.delivery_id) ?? Number.NaN)))
  )
  const delivered = rows.filter((r) => r.status === "DELIVERED").length
  const lastDelivered = Math.max(...rows.map((r) => r.delivered ?? Number.NaN).filter((t) => Number.isFinite(t)))
  const lastSent = Math.max(...rows.map((r) => r.sent ?? Number.NaN).filter((t) => Number.isFinite(t)))
  const createdRate = rows.length / ((Math.max(...rows.map((r) => r.created)) - start) / 1000)
  return {
    fanout,
    start,
    steady,
    expected,
    complete: wait.complete,
    cpuBefore,
    cpuAfter,
    elu,
    spans,
    endToEnd,
    kafkaToRow,
    rowToReceive,
    receiveToRecorded,
    delivered,
    lastDelivered,
    lastSent,
    createdRate
  }
}
export type LatencyResult = Awaited<ReturnType<typeof latencyPhase>>
