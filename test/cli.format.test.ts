/**
 * How the CLI lays out what it prints: tables, fields, truncation.
 */
import { describe, expect, it } from "@effect/vitest"
import { formatFields, formatTable, truncate } from "../src/cli/format.ts"

describe("format", () => {
  it("aligns columns to the widest cell, header first, numbers right-aligned, no trailing spaces", () => {
    const rows = [
      { id: "a", status: "DELIVERED", attempts: 1 },
      { id: "bbbbbb", status: "FAILED", attempts: 12 }
    ]
    const text = formatTable(
      [
        { header: "ID", value: (r: typeof rows[number]) => r.id },
        { header: "ATTEMPTS", value: (r) => String(r.attempts), align: "right" },
        { header: "STATUS", value: (r) => r.status }
      ],
      rows
    )
    expect(text.split("\n")).toEqual([
      "ID      ATTEMPTS  STATUS",
      "a              1  DELIVERED",
      "bbbbbb        12  FAILED"
    ])
  })

  it("prints the header alone for no rows, and keeps a control character from breaking a row", () => {
    const columns = [{ header: "NAME", value: (r: { name: string }) => r.name }, { header: "X", value: () => "x" }]
    expect(formatTable(columns, [])).toBe("NAME  X")
    expect(formatTable(columns, [{ name: "a\nb\tc" }]).split("\n")).toEqual(["NAME   X", "a b c  x"])
  })

  it("truncates with an ellipsis and pads field labels", () => {
    expect(truncate("abcdef", 4)).toBe("abc…")
    expect(truncate("abc", 4)).toBe("abc")
    expect(formatFields([["id", "1"], ["status", "FAILED"]])).toBe("id      1\nstatus  FAILED")
  })
})
