/**
 * The service's throughput and latency targets (README, Benchmarks), checked
 * against the rows of this run: one line per target, with what was measured
 * and whether it was met. Only a scenario that ran to the end with a balanced
 * ledger counts; one that did not is "not measured", never met.
 */
import { fmt } from "../support/report.ts"
import type { Row } from "./measure.ts"

export type Verdict = "met" | "not met" | "not measured"

export interface TargetCheck {
  readonly target: string
  readonly measured: string
  readonly verdict: Verdict
}

const serviceName = "integration-service"
const peerName = "BullMQ"

/** A row that can be judged: it ran to the end and its ledger balanced. */
const usable = (row: Row | undefined): row is Row => row !== undefined && row.produced > 0 && row.complete && row.ledger.balanced

const find = (rows: ReadonlyArray<Row>, system: (name: string) => boolean, key: string) =>
  rows.find((r) => system(r.system) && r.key === key)

const isService = (name: string) => name === serviceName
const isPeer = (name: string) => name.startsWith(peerName)

const unmeasured = (target: string, why: string): TargetCheck => ({ target, measured: why, verdict: "not measured" })

/** Deliveries/s above the peer's in the same run (and the ratio, against the aim of 1.5×). */
const aheadOfPeer = (rows: ReadonlyArray<Row>, key: string, label: string): TargetCheck => {
  const target = `${label}: deliveries/s above ${peerName}'s (aim 1.5×)`
  const mine = find(rows, isService, key)
  const theirs = find(rows, isPeer, key)
  if (!usable(mine)) return unmeasured(target, "the service's run did not finish with a balanced ledger, or did not run")
  if (!usable(theirs)) return unmeasured(target, `${fmt(mine.rate)}/s; no finished ${peerName} run to compare with`)
  const ratio = mine.rate / theirs.rate
  return {
    target,
    measured: `${fmt(mine.rate)}/s against ${fmt(theirs.rate)}/s: ${ratio.toFixed(2)}×`,
    verdict: ratio > 1 ? "met" : "not met"
  }
}

const p99Within = (rows: ReadonlyArray<Row>, key: string, label: string, limitMs: number): TargetCheck => {
  const target = `${label}: p99 ≤ ${limitMs} ms`
  const row = find(rows, isService, key)
  if (!usable(row)) return unmeasured(target, "did not finish with a balanced ledger, or did not run")
  return { target, measured: `p99 ${fmt(row.latency.p99, 1)} ms`, verdict: row.latency.p99 <= limitMs ? "met" : "not met" }
}

const wideWithin = (rows: ReadonlyArray<Row>, limitSeconds: number): TargetCheck => {
  const target = `one event to the wide store's subscriptions: the last received within ${limitSeconds} s`
  const row = find(rows, isService, "wide")
  if (!usable(row)) return unmeasured(target, "did not finish with a balanced ledger, or did not run")
  return { target, measured: `last at ${fmt(row.seconds, 2)} s`, verdict: row.seconds <= limitSeconds ? "met" : "not met" }
}

const rssWithin = (rows: ReadonlyArray<Row>, limitMb: number): TargetCheck => {
  const target = `peak RSS ≤ ${limitMb} MB in every scenario`
  const measured = rows.filter((r) => isService(r.system) && usable(r) && Number.isFinite(r.rssMb))
  if (measured.length === 0) return unmeasured(target, "no finished scenario")
  const peak = Math.max(...measured.map((r) => r.rssMb))
  return { target, measured: `at most ${fmt(peak)} MB`, verdict: peak <= limitMb ? "met" : "not met" }
}

/** Every target, in the README's order. */
export const checkTargets = (rows: ReadonlyArray<Row>): ReadonlyArray<TargetCheck> => [
  aheadOfPeer(rows, "burst", "burst to one subscription"),
  aheadOfPeer(rows, "fanout", "burst to four subscriptions"),
  p99Within(rows, "steady_500", "steady 500/s", 50),
  p99Within(rows, "after_500", "steady 500/s right after the burst", 50),
  p99Within(rows, "steady_2000", "steady 2,000/s", 100),
  p99Within(rows, "after_2000", "steady 2,000/s right after the burst", 100),
  wideWithin(rows, 2),
  rssWithin(rows, 300)
]

export const targetLines = (checks: ReadonlyArray<TargetCheck>) => {
  const met = checks.filter((c) => c.verdict === "met").length
  return [
    ...checks.map((c) => `${c.verdict.padEnd(12)} ${c.target} — ${c.measured}`),
    `${met} of ${checks.length} met in this run`
  ]
}
