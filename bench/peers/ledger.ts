/**
 * The ledger of one run: every delivery produced is delivered, pending or failed —
 * counted from the receiver and from the system's own store — or the run is VOID.
 */
import { fmt } from "../support/report.ts"
import type { StoreCounts } from "./systems/types.ts"

export interface Ledger {
  readonly balanced: boolean
  /** One line: the equation and, when it does not hold, why. */
  readonly text: string
}

export const checkLedger = (
  produced: number,
  received: { readonly distinct: number; readonly duplicates: number; readonly foreign: number },
  store: StoreCounts
): Ledger => {
  // A store that deletes what succeeded (graphile-worker) leaves "delivered" to the receiver.
  const delivered = store.delivered ?? received.distinct
  const problems: Array<string> = []
  if (produced !== delivered + store.pending + store.failed) {
    problems.push(`produced ${fmt(produced)} ≠ ${fmt(delivered + store.pending + store.failed)} accounted for`)
  }
  if (store.delivered !== undefined && received.distinct < store.delivered) {
    problems.push(`the store counts ${fmt(store.delivered - received.distinct)} delivered that never reached the receiver`)
  }
  if (received.distinct > delivered + store.pending) {
    problems.push(`the receiver got ${fmt(received.distinct - delivered - store.pending)} the store counts as failed`)
  }
  const equation =
    `produced ${fmt(produced)} = delivered ${fmt(delivered)} + pending ${fmt(store.pending)} + failed ${fmt(store.failed)}` +
    ` (store: ${store.detail}; receiver: ${fmt(received.distinct)} distinct, ${fmt(received.duplicates)} repeated` +
    `${received.foreign > 0 ? `, ${fmt(received.foreign)} of an earlier run` : ""})`
  return problems.length === 0
    ? { balanced: true, text: equation }
    : { balanced: false, text: `VOID: ${problems.join("; ")} — ${equation}` }
}
