/** Labelled ledger counters: keyed once, the same series Metric.tagged reads, spans only while tracing. */
import { Effect, Metric } from "effect"
import { describe, expect, it } from "vitest"
import { ledgerSeries } from "../src/programs/counters.ts"
import { spanWhenTracing } from "../src/programs/spans.ts"

describe("ledgerSeries", () => {
  it("keeps one counter per label set and counts into the series Metric.tagged names", async () => {
    const ledger = ledgerSeries("test_ledger_series_total", "a test ledger")
    const a = ledger.series([["lane", "webhook"], ["outcome", "delivered"]])
    expect(ledger.series([["lane", "webhook"], ["outcome", "delivered"]])).toBe(a)
    expect(ledger.series([["lane", "webhook"], ["outcome", "failed"]])).not.toBe(a)
    // Label values that would run together when joined naively stay apart.
    expect(ledger.series([["lane", "a"], ["outcome", "b"]])).not.toBe(ledger.series([["lane", "a\u0000outcome"], ["b", ""]]))
    const counted = await Effect.runPromise(Effect.gen(function*() {
      yield* Metric.increment(a)
      yield* Metric.incrementBy(a, 2)
      return yield* Metric.value(Metric.tagged(Metric.tagged(ledger.counter, "lane", "webhook"), "outcome", "delivered"))
    }))
    expect(counted.count).toBe(3)
  })
})

describe("spanWhenTracing", () => {
  const spanned = Effect.currentSpan.pipe(Effect.option, spanWhenTracing("test.span", { captureStackTrace: false }))
  it("makes the span while the tracer is on", async () => {
    const span = await Effect.runPromise(spanned)
    expect(span._tag === "Some" && span.value.name).toBe("test.span")
  })
  it("runs the effect alone while the tracer is off", async () => {
    const span = await Effect.runPromise(spanned.pipe(Effect.withTracerEnabled(false)))
    expect(span._tag).toBe("None")
  })
})
