import { setFlagsFromString } from "node:v8"
import { Effect } from "effect"

/**
 * How far V8 lets the old generation grow past what its last full collection
 * kept: 2× (V8 itself goes up to 4× for a heap that collects cheaply). The
 * service's live heap is small (about 40 MB in a burst), but its mid-lived
 * objects (claimed deliveries, results gathered for one statement, Kafka
 * batches) outlive the young generation, so at 4× the process carried some
 * 130 MB of garbage between full collections. Measured with bench:peers (five
 * alternating pairs): peak RSS 200–238 MB in every scenario instead of 282–346,
 * for about 6 % more CPU per delivery (0–12 %: more full collections). At 3×
 * (200) the RSS was 244–282 MB, too near the 300 MB the service is held to.
 * V8 reads the setting at each collection, so setting it at start-up is as good
 * as the command-line flag.
 */
export const heapGrowingPercent = 100

/**
 * Whether the operator set the growth themselves on node's command line
 * (`node --heap-growing-percent=0 bin/integration-service.mjs serve`): theirs
 * wins. Node refuses the flag in NODE_OPTIONS.
 */
export const operatorChoseHeapGrowth = (execArgv: ReadonlyArray<string>) =>
  execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))

export const boundHeapGrowth = Effect.sync(() => {
  if (!operatorChoseHeapGrowth(process.execArgv)) {
    setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`)
  }
})
