/** The report on stdout: each phase against the ceiling of the same run, then a summary and the command to rerun it. */
import { cpuTable, cpuUsage } from "../support/cpu.ts"
import type { ReceiveRecord } from "../support/receiver.ts"
import { type Distribution, fmt, table } from "../support/report.ts"
import { wallNow } from "../support/run.ts"
import { commitsLine, spanTable } from "../support/spanStats.ts"
import type { DeliveryRow } from "./observe.ts"
import type { CeilingResult, LatencyResult, ThroughputResult } from "./phases.ts"
import { databaseName, DEFAULT_KAFKA_PORT, eventTopic, OWN_KAFKA_PORT, runId, settings, storeIds } from "./settings.ts"

/** The run around the phases: where it ran and what it set up. */
export interface RunInfo {
  readonly source: string
  readonly cpuCount: number
  readonly brokers: ReadonlyArray<string>
  /** True when the bench started the broker. */
  readonly startedBroker: boolean
  readonly subscriptions: number
  /** The process group a pid belongs to, for the CPU tables. */
  readonly groupOf: (pid: number, comm: string) => string
}

/** Timeline after publish start: deliveries created, received and DELIVERED per second, in at most ~15 buckets. */
const timeline = (rows: ReadonlyArray<DeliveryRow>, received: ReadonlyArray<ReceiveRecord>, since: number) => {
  const times = [...rows.flatMap((r) => [r.created, r.delivered ?? Number.NaN]), ...received.map((r) => r[2])]
    .filter((t) => Number.isFinite(t))
  const span = Math.max(1, (Math.max(...times) - since) / 1000)
  const width = Math.max(1, Math.ceil(span / 15))
  const count = Math.ceil(span / width)
  const buckets = Array.from({ length: count }, () => [0, 0, 0])
  const add = (at: number | null, index: 0 | 1 | 2) => {
    if (at === null || !Number.isFinite(at)) return
    const bucket = Math.min(count - 1, Math.max(0, Math.floor((at - since) / 1000 / width)))
    buckets[bucket]![index]!++
  }
  for (const row of rows) {
    add(row.created, 0)
    add(row.delivered, 2)
  }
  for (const r of received) add(r[2], 1)
  return table(
    ["seconds after publish start", "created/s", "received/s", "DELIVERED/s"],
    buckets.map((b, i) => [`${i * width}-${(i + 1) * width}`, fmt(b[0]! / width), fmt(b[1]! / width), fmt(b[2]! / width)])
  )
}

/** The command that reruns this run: the settings that differ from the defaults, and where it ran against. */
const rerunLine = () => {
  const overrides = [
    ["BENCH_EVENTS", 5000],
    ["BENCH_SUBSCRIPTIONS", 4],
    ["BENCH_STORES", 1],
    ["BENCH_PARTITIONS", 3],
    ["BENCH_RATE", 500],
    ["BENCH_RATE_SECONDS", 10],
    ["BENCH_LATENCY_FANOUT", 1],
    ["BENCH_PAYLOAD_BYTES", 256]
  ].filter(([name, dflt]) => process.env[name as string] !== undefined && Number(process.env[name as string]) !== dflt)
    .map(([name]) => `${name}=${process.env[name as string]}`)
  const envPrefix = [
    ...(process.env["DATABASE_URL"] ? ["DATABASE_URL=…"] : []),
    ...(settings.kafkaBrokers ? [`KAFKA_BROKERS=${settings.kafkaBrokers}`] : []),
    ...(!settings.kafkaBrokers && OWN_KAFKA_PORT !== DEFAULT_KAFKA_PORT ? [`BENCH_KAFKA_PORT=${OWN_KAFKA_PORT}`] : []),
    ...overrides
  ].join(" ")
  return `rerun: ${envPrefix ? `${envPrefix} ` : ""}npm run bench:webhooks   (or: npx tsx bench/webhooks/main.ts)`
}

const latencyRow = (name: string, d: Distribution) => [name, fmt(d.n), fmt(d.p50, 1), fmt(d.p90, 1), fmt(d.p99, 1), fmt(d.max, 1), fmt(d.mean, 1)]

export const writeReport = (run: RunInfo, ceiling: CeilingResult, burst: ThroughputResult, steady: LatencyResult) => {
  const { top } = ceiling
  const rates = burst.rates
  const out: Array<string> = []
  const say = (line = "") => out.push(line)
  say()
  say(`== webhook delivery benchmark (run ${runId}, source ${run.source}, ${run.cpuCount} CPUs, Node ${process.version}) ==`)
  say(
    `service: MainLive (serve's wiring: default worker options, concurrency 128, pool 10) on PostgreSQL ${databaseName}, ` +
      `Kafka ${run.brokers.join(",")}${run.startedBroker ? " (started by the bench)" : ""}, topic ${eventTopic} (${settings.partitions} partitions), ` +
      `${storeIds.length} store(s), ${run.subscriptions} subscriptions, body ${ceiling.sampleBody.byteLength} bytes`
  )
  say()
  say("-- 1. ceiling: plain undici POSTs to the same receiver")
  say(
    `${fmt(top.requests)} requests in ${fmt(top.seconds, 2)} s at concurrency ${settings.ceilingConcurrency}: ${fmt(top.rate)} requests/s, ` +
      `latency p50 ${fmt(top.latency.p50, 1)} ms, p99 ${fmt(top.latency.p99, 1)} ms, ${top.errors} errors`
  )
  say(cpuTable(cpuUsage(ceiling.cpuBefore, ceiling.cpuAfter, run.groupOf)))
  say()
  say(`-- 2. throughput: ${settings.events} events × ${burst.fanout} subscriptions = ${burst.expected} deliveries`)
  say(`published in ${fmt(burst.publishEnd - burst.publishStart)} ms: ${fmt(rates.publishRate)} events/s`)
  say(
    `fan-out: ${fmt(burst.rows.length)} deliveries created by +${fmt(rates.fanoutSeconds, 2)} s: ` +
      `${fmt(rates.fanoutEventsRate)} events/s, ${fmt(rates.fanoutRowsRate)} deliveries/s ` +
      `(${fmt(rates.fanoutRowsRateWindow)}/s between first and last row)`
  )
  say(
    `receiver: ${fmt(burst.received.length)} requests (${fmt(burst.uniqueReceived)} distinct deliveries) in ` +
      `${fmt((burst.lastReceived - burst.firstReceived) / 1000, 2)} s: ${fmt(rates.receiveRate)} deliveries/s`
  )
  say(
    `all DELIVERED in the database by +${fmt(rates.endToEndSeconds, 2)} s after publish start: ` +
      `${fmt(rates.endToEndRate)} deliveries/s end to end${burst.complete ? "" : " (INCOMPLETE: timed out)"}`
  )
  say(
    `database state: ${burst.state.statuses.map((r) => `${r.status} ${r.n}`).join(", ")}; attempts ${burst.state.attempts}; ` +
      `outbox left ${burst.state.outboxLeft} → ${
        burst.delivered === burst.expected ? "every delivery DELIVERED" : `MISSING ${burst.expected - burst.delivered}`
      }`
  )
  if (settings.spans) say(commitsLine(burst.spans, burst.expected))
  say(`event loop of the service process: ${fmt(burst.elu.utilization * 100)} % busy over the phase`)
  say(cpuTable(cpuUsage(burst.cpuBefore, burst.cpuAfter, run.groupOf)))
  say()
  say("timeline (seconds after publish start):")
  say(timeline(burst.rows, burst.received, burst.publishStart))
  if (settings.spans) {
    say()
    say(spanTable(burst.spans, (burst.done - burst.publishStart) / 1000, burst.expected))
  }
  say()
  say(
    `-- 3. latency: ${fmt(steady.steady.sent)} events at ${fmt(steady.steady.sent / steady.steady.seconds)} events/s over ${fmt(steady.steady.seconds, 1)} s, ` +
      `${steady.fanout} subscription(s) each → ${fmt(steady.expected)} deliveries, ${fmt(steady.delivered)} DELIVERED` +
      `${steady.complete ? "" : " (INCOMPLETE: timed out)"}`
  )
  say(
    `kept up: ${steady.lastDelivered - steady.lastSent < 1000 ? "yes" : "NO"}: the last delivery was DELIVERED ` +
      `${fmt((steady.lastDelivered - steady.lastSent) / 1000, 2)} s after the last publish; ` +
      `deliveries created at ${fmt(steady.createdRate)}/s on average over the phase`
  )
  say(table(["ms", "n", "p50", "p90", "p99", "max", "mean"], [
    latencyRow("publish → received (end to end)", steady.endToEnd),
    latencyRow("  publish → delivery row (Kafka, fan-out)", steady.kafkaToRow),
    latencyRow("  delivery row → received (claim, attempt)", steady.rowToReceive),
    latencyRow("  received → recorded DELIVERED", steady.receiveToRecorded)
  ]))
  if (settings.spans) say(commitsLine(steady.spans, steady.expected))
  say(`event loop of the service process: ${fmt(steady.elu.utilization * 100)} % busy over the phase`)
  say(cpuTable(cpuUsage(steady.cpuBefore, steady.cpuAfter, run.groupOf)))
  if (settings.spans) {
    say()
    say(spanTable(steady.spans, (wallNow() - steady.start) / 1000, steady.expected))
  }
  say()
  const endToEnd = steady.endToEnd
  say("== summary ==")
  say(table(["measure", "value"], [
    ["ceiling: plain undici POSTs/s", fmt(top.rate)],
    ["burst publish rate, events/s", fmt(rates.publishRate)],
    ["fan-out, events/s", fmt(rates.fanoutEventsRate)],
    ["fan-out, deliveries created/s", fmt(rates.fanoutRowsRate)],
    ["deliveries/s at the receiver (first → last)", fmt(rates.receiveRate)],
    ["deliveries/s end to end (publish → all DELIVERED in DB)", fmt(rates.endToEndRate)],
    ["end-to-end deliveries/s ÷ ceiling", `${fmt((rates.endToEndRate / top.rate) * 100, 1)} %`],
    ["receiver deliveries/s ÷ ceiling", `${fmt((rates.receiveRate / top.rate) * 100, 1)} %`],
    ["burst: DELIVERED / expected", `${fmt(burst.delivered)} / ${fmt(burst.expected)}`],
    [`latency at ${settings.rate}/s: p50 / p90 / p99 / max, ms`, `${fmt(endToEnd.p50, 1)} / ${fmt(endToEnd.p90, 1)} / ${fmt(endToEnd.p99, 1)} / ${fmt(endToEnd.max, 1)}`],
    ["steady: DELIVERED / expected", `${fmt(steady.delivered)} / ${fmt(steady.expected)}`]
  ]))
  say()
  say(rerunLine())
  process.stdout.write(`${out.join("\n")}\n`)
}
