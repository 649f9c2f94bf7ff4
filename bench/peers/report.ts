/** The one table of bench:peers, the ledger lines under it, and what was measured how. */
import { fmt, table } from "../support/report.ts"
import type { Row } from "./measure.ts"

export const resultTable = (rows: ReadonlyArray<Row>) =>
  table(
    ["system", "scenario", "deliveries", "deliveries/s", "p50 ms", "p99 ms", "last at s", "peak RSS MB", "CPU s/1k", "store CPU s/1k", "ledger"],
    rows.map((r) => [
      r.system,
      r.scenario,
      r.produced > 0 ? `${fmt(r.delivered)}${r.delivered === r.produced ? "" : ` of ${fmt(r.produced)}`}` : "-",
      fmt(r.rate),
      fmt(r.latency.p50, 1),
      fmt(r.latency.p99, 1),
      fmt(r.seconds, 2),
      fmt(r.rssMb),
      fmt(r.cpuPer1k, 2),
      fmt(r.storeCpuPer1k, 2),
      r.produced === 0 && r.note !== undefined
        ? r.note.startsWith("failed") ? "FAILED" : "skipped"
        : r.ledger.balanced ? (r.complete ? "ok" : "ok, unfinished") : "VOID"
    ])
  )

export const ledgerLines = (rows: ReadonlyArray<Row>) =>
  rows.map((r) => `${r.system} · ${r.scenario}: ${r.ledger.text}${r.note !== undefined && r.produced > 0 ? ` [${r.note}]` : ""}`)

export const breakdownLines = (rows: ReadonlyArray<Row>) =>
  rows.flatMap((r) => (r.breakdown === undefined ? [] : [`${r.system} · ${r.scenario}: ${r.breakdown}`]))
