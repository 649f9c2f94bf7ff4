/** `serve` bounds V8's old-generation growth unless the operator chose a growth of their own. */
import { describe, expect, it } from "vitest"
import { operatorChoseHeapGrowth } from "../src/cli/server/heapGrowth.ts"

describe("serve's heap growth", () => {
  it("is the operator's when node's command line names it, in either spelling", () => {
    expect(operatorChoseHeapGrowth(["--heap-growing-percent=50"])).toBe(true)
    expect(operatorChoseHeapGrowth(["--max-old-space-size=512", "--heap_growing_percent=300"])).toBe(true)
  })
  it("is the service's otherwise (other flags, none, look-alikes)", () => {
    expect(operatorChoseHeapGrowth([])).toBe(false)
    expect(operatorChoseHeapGrowth(["--enable-source-maps", "--cpu-prof"])).toBe(false)
    expect(operatorChoseHeapGrowth(["--heap-growing", "x--heap-growing-percent=1", "--heap-growing-percentage=5\u0000"])).toBe(false)
  })
})
