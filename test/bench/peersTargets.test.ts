/**
 * bench:peers' target lines: judged only on scenarios that ran to the end with
 * a balanced ledger, against the peer measured in the same run.
 */
import { describe, expect, it } from "vitest"
import type { Row } from "../../bench/peers/measure.ts"
import { checkTargets, targetLines } from "../../bench/peers/targets.ts"
import { distribution } from "../../bench/support/report.ts"

const row = (system: string, key: string, values: Partial<Row> = {}): Row => ({
  system,
  scenario: key,
  key,
  delivered: 1000,
  produced: 1000,
  rate: 1000,
  latency: distribution([10, 20, 30]),
  seconds: 1,
  rssMb: 200,
  cpuPer1k: 0.1,
  storeCpuPer1k: 0.1,
  ledger: { balanced: true, text: "ok" },
  complete: true,
  ...values
})

const verdictOf = (rows: ReadonlyArray<Row>, target: string) => checkTargets(rows).find((c) => c.target.startsWith(target))!

describe("bench:peers targets", () => {
  it("a burst is met above the peer's rate in the same run, and says by how much", () => {
    const ahead = verdictOf([row("integration-service", "burst", { rate: 3000 }), row("BullMQ 5.81.5", "burst", { rate: 2000 })], "burst to one")
    expect(ahead).toMatchObject({ verdict: "met", measured: "3,000/s against 2,000/s: 1.50×" })
    const behind = verdictOf([row("integration-service", "burst", { rate: 1000 }), row("BullMQ 5.81.5", "burst", { rate: 4000 })], "burst to one")
    expect(behind.verdict).toBe("not met")
  })

  it("a void ledger, an unfinished run, a missing peer or a missing scenario is not measured, never met", () => {
    const peer = row("BullMQ 5.81.5", "burst")
    expect(verdictOf([row("integration-service", "burst", { rate: 9e9, ledger: { balanced: false, text: "VOID" } }), peer], "burst to one").verdict)
      .toBe("not measured")
    expect(verdictOf([row("integration-service", "burst", { rate: 9e9, complete: false }), peer], "burst to one").verdict).toBe("not measured")
    expect(verdictOf([row("integration-service", "burst", { rate: 9e9 })], "burst to one").verdict).toBe("not measured")
    expect(verdictOf([], "steady 500/s:").verdict).toBe("not measured")
    // A peer's row does not count as the service's.
    expect(verdictOf([row("BullMQ 5.81.5", "steady_500")], "steady 500/s:").verdict).toBe("not measured")
  })

  it("latency, the wide fan-out and RSS against their limits", () => {
    const rows = [
      row("integration-service", "steady_500", { latency: distribution([1, 2, 50]) }),
      row("integration-service", "steady_2000", { latency: distribution([1, 2, 101]) }),
      row("integration-service", "wide", { seconds: 1.99, rssMb: 301 }),
      // Not finished: its RSS is not counted either way.
      row("integration-service", "fanout", { rssMb: 900, complete: false })
    ]
    expect(verdictOf(rows, "steady 500/s:").verdict).toBe("met")
    expect(verdictOf(rows, "steady 2,000/s:").verdict).toBe("not met")
    expect(verdictOf(rows, "one event").verdict).toBe("met")
    expect(verdictOf(rows, "peak RSS")).toMatchObject({ verdict: "not met", measured: "at most 301 MB" })
    const lines = targetLines(checkTargets(rows))
    expect(lines.at(-1)).toBe("2 of 8 met in this run")
  })
})
