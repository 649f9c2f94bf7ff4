/**
 * The scenarios, in the order each system runs them, and the events they produce.
 * A scenario's key names its queue, task, event type (`bench.<key>`) and Kafka topic.
 */
import { randomUUID } from "node:crypto"
import { wallNow } from "../support/run.ts"
import { settings } from "./settings.ts"

export interface Scenario {
  readonly key: string
  readonly label: string
  readonly kind: "burst" | "steady"
  /** Burst: events produced at once. */
  readonly events: number
  /** Steady: events/s for `seconds`. */
  readonly rate: number
  readonly seconds: number
  /** Subscriptions (peers: jobs) per event. */
  readonly fanout: number
  /** Kept out of the table (warm-up). */
  readonly hidden: boolean
  /** Only the service runs it (one event to a store's many subscriptions). */
  readonly serviceOnly: boolean
}

const burst = (key: string, label: string, events: number, fanout: number, extra: Partial<Scenario> = {}): Scenario => ({
  key, label, kind: "burst", events, rate: 0, seconds: 0, fanout, hidden: false, serviceOnly: false, ...extra
})
const steady = (key: string, label: string, rate: number, extra: Partial<Scenario> = {}): Scenario => ({
  key, label, kind: "steady", events: 0, rate, seconds: settings.steadySeconds, fanout: 1, hidden: false, serviceOnly: false, ...extra
})

export const warmup = burst("warmup", "warm-up", settings.warmupEvents, 1, { hidden: true })
/**
 * Then a steady stream, so that what runs just-in-time compiled (the Kafka broker's JVM above all,
 * and every Node process) has compiled its hot paths before the quiet phases are measured: right
 * after a broker's start its CPU at 500/s fell from 0.58 to 0.13–0.19 of a core over 40 s.
 */
const warmupSteady = steady("warmup_steady", "warm-up, steady", 500, { seconds: settings.warmupSeconds, hidden: true })
const warmups = settings.warmupSeconds > 0 ? [warmup, warmupSteady] : [warmup]

const all: ReadonlyArray<Scenario> = [
  ...warmups,
  ...settings.rates.map((rate) => steady(`steady_${rate}`, `steady ${rate}/s (quiet)`, rate)),
  burst("burst", `burst ${settings.burst} × 1`, settings.burst, 1),
  ...(settings.afterBurst
    ? settings.rates.map((rate) => steady(`after_${rate}`, `steady ${rate}/s right after the burst`, rate))
    : []),
  burst("fanout", `burst ${settings.fanoutEvents} × ${settings.fanout}`, settings.fanoutEvents, settings.fanout),
  ...(settings.wideFanout > 0
    ? [burst("wide", `1 event × ${settings.wideFanout} subscriptions`, 1, settings.wideFanout, { serviceOnly: true })]
    : [])
]

/** What this run runs: the warm-up and every scenario, or those BENCH_SCENARIOS names. */
export const scenarios = all.filter((s) => warmups.includes(s) || settings.only.length === 0 || settings.only.includes(s.key))

export const eventType = (scenario: Scenario) => `bench.${scenario.key}`

/** Every event belongs to one store; the many subscriptions of the wide fan-out are another store's. */
export const storeOf = (scenario: Scenario) => (scenario.serviceOnly ? "peers-store-wide" : "peers-store-1")

/** What a scenario's deliveries number when all its events were produced. */
export const expectedDeliveries = (scenario: Scenario, produced: number) => produced * scenario.fanout

export interface Envelope {
  readonly eventId: string
  readonly eventType: string
  readonly storeId: string
  readonly occurredAt: string
  readonly data: { readonly sentAt: number; readonly seq: number; readonly pad: string }
}

const padding = "x".repeat(settings.payloadBytes)
let sequence = 0

/** A platform event envelope stamped with the time it is produced (data.sentAt, read back by the receiver). */
export const makeEvent = (scenario: Scenario, storeId: string): Envelope => {
  const now = wallNow()
  return {
    eventId: randomUUID(),
    eventType: eventType(scenario),
    storeId,
    occurredAt: new Date(now).toISOString(),
    data: { sentAt: now, seq: ++sequence, pad: padding }
  }
}
