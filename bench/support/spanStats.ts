/**
 * Span statistics of a service run in-process: its own Effect spans aggregated per
 * name (sql.execute per statement: a client-side pg_stat_statements), plus the
 * kafkajs consumer timed from outside. Used by bench/webhooks/.
 */
import { Effect, Layer, Option, type Tracer } from "effect"
import { Kafka as KafkaJs } from "kafkajs"
import { fmt, table } from "./report.ts"

interface SpanStat {
  count: number
  totalMs: number
  maxMs: number
}
const spanStats = new Map<string, SpanStat>()

const spanLabel = (span: Tracer.Span): string => {
  if (span.name !== "sql.execute") return span.name
  const text = String(span.attributes.get("db.query.text") ?? "?").replace(/--[^\n]*/g, " ").replace(/\s+/g, " ").trim()
  const withClause = /^WITH \w+ AS \( SELECT/.exec(text) ? "claim: " : ""
  return `sql: ${withClause}${text.slice(0, 70)}`
}

export const autocommitLabel = "(sql statements outside a transaction)"
const transactionLabel = "sql.transaction"

const insideTransaction = (span: Tracer.Span): boolean => {
  let parent = span.parent
  for (let depth = 0; depth < 50 && Option.isSome(parent); depth++) {
    const p = parent.value
    if (p._tag !== "Span") return false
    if (p.name === transactionLabel) return true
    parent = p.parent
  }
  return false
}

/** Commits made by the service: transactions plus statements run on their own (each its own commit). */
export const commitsLine = (stats: ReturnType<typeof takeSpanStats>, deliveries: number) => {
  const count = (label: string) => stats.find(([l]) => l === label)?.[1].count ?? 0
  const transactions = count(transactionLabel)
  const single = count(autocommitLabel)
  return `postgres commits by the service: ${fmt(transactions + single)} (${fmt(transactions)} transactions + ` +
    `${fmt(single)} single statements) = ${fmt((transactions + single) / Math.max(1, deliveries), 2)} per delivery`
}

export const StatsTracer = Layer.unwrapEffect(
  Effect.map(Effect.tracer, (base) => {
    const tracer: Tracer.Tracer = {
      ...base,
      span(name, parent, context, links, startTime, kind, options) {
        const span = base.span(name, parent, context, links, startTime, kind, options)
        const end = span.end.bind(span)
        ;(span as { end: Tracer.Span["end"] }).end = (endTime, exit) => {
          end(endTime, exit)
          const ms = Number(endTime - startTime) / 1e6
          recordTiming(spanLabel(span), ms)
          if (span.name === "sql.execute" && !insideTransaction(span)) recordTiming(autocommitLabel, ms)
        }
        return span
      },
      context: (f, fiber) => base.context(f, fiber)
    }
    return Layer.setTracer(tracer)
  })
)

const recordTiming = (label: string, ms: number) => {
  const stat = spanStats.get(label) ?? { count: 0, totalMs: 0, maxMs: 0 }
  stat.count++
  stat.totalMs += ms
  if (ms > stat.maxMs) stat.maxMs = ms
  spanStats.set(label, stat)
}

/**
 * Times the service's Kafka consumer from outside: each eachMessage call
 * (handler + offset commit, as KafkaLive runs them) and each commitOffsets.
 * kafkajs is one module instance, so wrapping Client.prototype.consumer
 * reaches the consumers KafkaLive creates.
 */
export const instrumentKafkaConsumers = () => {
  type Consumer = ReturnType<KafkaJs["consumer"]>
  const original = KafkaJs.prototype.consumer
  KafkaJs.prototype.consumer = function(this: KafkaJs, ...args: Parameters<KafkaJs["consumer"]>): Consumer {
    const consumer = original.apply(this, args)
    const commitOffsets = consumer.commitOffsets.bind(consumer)
    consumer.commitOffsets = async (offsets) => {
      const t = performance.now()
      try {
        return await commitOffsets(offsets)
      } finally {
        recordTiming("kafka: consumer.commitOffsets", performance.now() - t)
      }
    }
    const run = consumer.run.bind(consumer)
    consumer.run = (config) => {
      const eachMessage = config?.eachMessage
      return run(eachMessage === undefined ? config : {
        ...config,
        eachMessage: async (payload) => {
          const t = performance.now()
          try {
            return await eachMessage(payload)
          } finally {
            recordTiming("kafka: eachMessage (handler + commit)", performance.now() - t)
          }
        }
      })
    }
    return consumer
  }
}

export const takeSpanStats = () => {
  const out = [...spanStats.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs)
  spanStats.clear()
  return out
}

export const spanTable = (stats: ReturnType<typeof takeSpanStats>, phaseSeconds: number, deliveries: number) =>
  table(
    ["timing (service, client-side; busy % = total ÷ phase time)", "count", "per delivery", "total s", "busy %", "mean ms", "max ms"],
    stats.filter(([label]) => label !== autocommitLabel).slice(0, 14).map(([label, s]) => [
      label.length > 80 ? `${label.slice(0, 77)}...` : label,
      fmt(s.count),
      deliveries > 0 ? fmt(s.count / deliveries, 3) : "n/a",
      fmt(s.totalMs / 1000, 2),
      fmt((s.totalMs / 1000 / phaseSeconds) * 100, 0),
      fmt(s.totalMs / s.count, 2),
      fmt(s.maxMs, 1)
    ])
  )
