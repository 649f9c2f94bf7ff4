import { Option } from "effect"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"

/**
 * Effect's metrics in the Prometheus text exposition format (version 0.0.4):
 * counters and gauges as they are, histograms as cumulative `_bucket` series
 * with `_sum` and `_count`, frequencies as a counter per value, summaries as
 * quantiles.
 */
const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")
const sanitizeName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_")

const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${sanitizeName(k)}="${escapeLabel(v)}"`).join(",")}}`

const num = (n: number | bigint) =>
  typeof n === "bigint" ? n.toString() : Number.isNaN(n) ? "NaN" : n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : String(n)

/**
 * A gauge value read at scrape time rather than kept in Effect's registry:
 * series whose label set changes between scrapes (the top-N endpoints by
 * backlog age) must disappear when they drop out, which a registered gauge never does.
 */
export interface GaugeSample {
  readonly name: string
  readonly help: string
  readonly labels: ReadonlyArray<readonly [string, string]>
  readonly value: number
}

export const renderPrometheus = (
  pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  samples: ReadonlyArray<GaugeSample> = []
): string => {
  const families = new Map<string, { type: string; help: string; lines: Array<string> }>()
  const family = (name: string, type: string, help: string | undefined) => {
    let f = families.get(name)
    if (f === undefined) {
      f = { type, help: help ?? name, lines: [] }
      families.set(name, f)
    }
    return f
  }
  for (const pair of pairs) {
    const name = sanitizeName(pair.metricKey.name)
    const tags = pair.metricKey.tags.map((t) => [t.key, t.value] as const)
    const help = Option.getOrUndefined(pair.metricKey.description)
    const state = pair.metricState
    if (MetricState.isCounterState(state)) {
      family(name, "counter", help).lines.push(`${name}${labels(tags)} ${num(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      family(name, "gauge", help).lines.push(`${name}${labels(tags)} ${num(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      const f = family(name, "histogram", help)
      for (const [bound, count] of state.buckets) {
        f.lines.push(`${name}_bucket${labels([...tags, ["le", num(bound)]])} ${count}`)
      }
      if (!state.buckets.some(([bound]) => bound === Infinity)) {
        f.lines.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${state.count}`)
      }
      f.lines.push(`${name}_sum${labels(tags)} ${num(state.sum)}`, `${name}_count${labels(tags)} ${state.count}`)
    } else if (MetricState.isFrequencyState(state)) {
      const f = family(name, "counter", help)
      for (const [value, count] of state.occurrences) f.lines.push(`${name}${labels([...tags, ["value", value]])} ${count}`)
    } else if (MetricState.isSummaryState(state)) {
      const f = family(name, "summary", help)
      for (const [q, value] of state.quantiles) {
        f.lines.push(`${name}${labels([...tags, ["quantile", String(q)]])} ${Option.match(value, { onNone: () => "NaN", onSome: num })}`)
      }
      f.lines.push(`${name}_sum${labels(tags)} ${num(state.sum)}`, `${name}_count${labels(tags)} ${state.count}`)
    }
  }
  for (const sample of samples) {
    const name = sanitizeName(sample.name)
    family(name, "gauge", sample.help).lines.push(`${name}${labels(sample.labels)} ${num(sample.value)}`)
  }
  const out: Array<string> = []
  for (const [name, f] of [...families.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${f.type}`, ...f.lines.sort())
  }
  return out.join("\n") + "\n"
}
