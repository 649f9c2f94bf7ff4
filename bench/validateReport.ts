/**
 * What bench/validate.ts prints: one table of the phases, then each target of
 * the gateway's hot path against what was measured in this run.
 */
import { fmt, table } from "./support/report.ts"
import type { PhaseResult } from "./validateLoad.ts"

export type Measured = PhaseResult & {
  readonly label: string
  readonly concurrency: number
  /** CPU (user + system) of this process per answer, µs. */
  readonly cpuMicrosPerAnswer: number
}

const rate = (r: PhaseResult | undefined) => (r === undefined ? Number.NaN : (r.requests / r.elapsedMs) * 1000)
const answers = (statuses: Record<string, number>) => Object.entries(statuses).map(([s, n]) => `${s}×${n}`).join(" ")
const forgedRate = (r: PhaseResult | undefined) =>
  r === undefined ? Number.NaN : (Object.values(r.backgroundStatuses).reduce((a, b) => a + b, 0) / r.elapsedMs) * 1000
const verdict = (ok: boolean) => (ok ? "met" : "NOT met")

const median = (values: ReadonlyArray<number>) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const report = (
  results: ReadonlyArray<Measured>,
  context: { readonly concurrency: number; readonly bcryptCost: number; readonly flood: number; readonly rounds: number }
) => {
  const byName: Record<string, Measured | undefined> = Object.fromEntries(results.map((r) => [r.name, r]))
  const lines: Array<string> = [""]
  lines.push(table(
    ["phase", "conc", "req/s", "CPU µs", "p50 ms", "p90 ms", "p99 ms", "max ms", "answers"],
    results.map((r) => [
      r.label,
      String(r.concurrency),
      fmt(rate(r)),
      fmt(r.cpuMicrosPerAnswer, 1),
      fmt(r.latency.p50, 2),
      fmt(r.latency.p90, 2),
      fmt(r.latency.p99, 2),
      fmt(r.latency.max, 1),
      answers(r.statuses) + (r.errors ? ` errors×${r.errors}` : "") +
        (Object.keys(r.backgroundStatuses).length ? `  (background ${answers(r.backgroundStatuses)})` : "")
    ])
  ))
  lines.push("")
  const rounds = Array.from({ length: context.rounds }, (_, i) => ({
    ceiling: byName[`ceiling#${i + 1}`],
    warm: byName[`warm#${i + 1}`],
    malformed: byName[`malformed#${i + 1}`]
  }))
    .filter((r) => r.ceiling !== undefined && r.warm !== undefined)
  const ratios = rounds.map((r) => rate(r.warm) / rate(r.ceiling))
  const ratio = median(ratios)
  const warmRate = median(rounds.map((r) => rate(r.warm)))
  const p99 = median(rounds.map((r) => r.warm!.latency.p99))
  lines.push(`node:http ceiling: ${rounds.map((r) => fmt(rate(r.ceiling))).join(", ")} req/s, ` +
    `p99 ${rounds.map((r) => fmt(r.ceiling!.latency.p99, 2)).join(", ")} ms at concurrency ${context.concurrency}`)
  lines.push(`warm validate / ceiling, round by round: ${ratios.map((x) => `${fmt(x * 100, 1)}%`).join(", ")}; ` +
    `median ${fmt(ratio * 100, 1)}%   (target ≥ 40%: ${verdict(ratio >= 0.4)})`)
  lines.push(`warm validate p99: ${rounds.map((r) => fmt(r.warm!.latency.p99, 2)).join(", ")} ms (median ${fmt(p99, 2)}) at concurrency ${context.concurrency}, ` +
    `${fmt(byName["warm-c1"]?.latency.p99 ?? Number.NaN, 2)} ms at concurrency 1   (target ≤ 5 ms: ${verdict(p99 <= 5)})`)
  const cpu = (pick: (r: typeof rounds[number]) => Measured | undefined) => median(rounds.map((r) => pick(r)?.cpuMicrosPerAnswer ?? Number.NaN))
  lines.push(`CPU of this process per answer (median of rounds): ceiling ${fmt(cpu((r) => r.ceiling), 1)} µs, ` +
    `warm ${fmt(cpu((r) => r.warm), 1)} µs, malformed ${fmt(cpu((r) => r.malformed), 1)} µs`)
  const malformedRatios = rounds.map((r) => rate(r.malformed) / rate(r.warm))
  // Within 5 %: the two differ by a hash and a map lookup, well under what the machine's noise moves.
  const asFast = median(malformedRatios) >= 0.95 || cpu((r) => r.malformed) <= cpu((r) => r.warm) * 1.05
  lines.push(`malformed / warm req/s, round by round: ${malformedRatios.map((x) => `${fmt(x * 100, 1)}%`).join(", ")}; ` +
    `median ${fmt(median(malformedRatios) * 100, 1)}%   (target: refused at least as fast, req/s or CPU per answer within 5 %: ${verdict(asFast)})`)
  lines.push(`warm validate / healthz (an Effect route): ${fmt((warmRate / rate(byName["healthz"])) * 100, 1)}%`)
  lines.push(`warm validate p99 while cold validations keep bcrypt busy: ${fmt(byName["warm-under-cold"]?.latency.p99 ?? Number.NaN, 2)} ms`)
  const warmFlood = byName["warm-flood"]
  lines.push(`warm validate, c=1, under ${context.flood} forged keys in flight: p50 ${fmt(warmFlood?.latency.p50 ?? Number.NaN, 2)} ms, ` +
    `p99 ${fmt(warmFlood?.latency.p99 ?? Number.NaN, 2)} ms; forged keys answered ${fmt(forgedRate(warmFlood))}/s`)
  const idle = byName["cold-c1"]?.latency.p50 ?? Number.NaN
  const flooded = byName["cold-flood"]
  const limit = 3 * idle + 100
  lines.push(`cold validation, idle: p50 ${fmt(idle, 1)} ms (one bcrypt at cost ${context.bcryptCost}); under ${context.flood} forged keys in flight: ` +
    `p50 ${fmt(flooded?.latency.p50 ?? Number.NaN, 1)} ms, p99 ${fmt(flooded?.latency.p99 ?? Number.NaN, 1)} ms, max ${fmt(flooded?.latency.max ?? Number.NaN, 1)} ms`)
  lines.push(`   target ≤ 3 × idle + 100 ms = ${fmt(limit, 1)} ms: p50 ${verdict((flooded?.latency.p50 ?? Infinity) <= limit)}, ` +
    `p99 ${verdict((flooded?.latency.p99 ?? Infinity) <= limit)}; forged keys answered ${fmt(forgedRate(flooded))}/s`)
  lines.push(`cold validations at concurrency ${context.concurrency}: ${fmt(rate(byName["cold"]), 1)}/s ` +
    `(bcrypt cost ${context.bcryptCost}, UV_THREADPOOL_SIZE ${process.env["UV_THREADPOOL_SIZE"] ?? "4 (default)"})`)
  return lines.join("\n")
}
