import { Effect } from "effect"
import { baseUrl } from "./app.ts"

/** GET /metrics of the test app, as `name{labels}` → value (labels as rendered, sorted by the service). */
export const scrapeMetrics = Effect.gen(function*() {
  const base = yield* baseUrl
  const text = yield* Effect.promise(() => fetch(`${base}/metrics`).then((r) => r.text()))
  const values = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const at = line.lastIndexOf(" ")
    values.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return { text, value: (series: string) => values.get(series) ?? 0 }
})

/** How much each series moved while `effect` ran. */
export const metricDeltas = <A, E, R>(series: ReadonlyArray<string>, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* scrapeMetrics
    const result = yield* effect
    const after = yield* scrapeMetrics
    const deltas = Object.fromEntries(series.map((s) => [s, after.value(s) - before.value(s)]))
    return { result, deltas }
  })
