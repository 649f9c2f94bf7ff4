import { Metric } from "effect"

/**
 * A monotonic counter of the service's ledger, exported as `<name>` on
 * /metrics (and over OTLP when configured): incremental, so a scrape shows
 * the total since start.
 */
export const ledgerCounter = (name: string, description: string): Metric.Metric.Counter<number> =>
  Metric.counter(name, { description, incremental: true })
