import { DateTime } from "effect"

/**
 * Plain-text output of the ops CLI: aligned tables and key/value blocks,
 * nothing but string padding (no dependencies, no colours, so the output
 * pipes cleanly into grep/awk).
 */

export interface Column<A> {
  readonly header: string
  readonly value: (row: A) => string
  /** Numbers read better right-aligned. Default: left. */
  readonly align?: "left" | "right"
}

/** Control characters (a newline in an event type, a tab in a response body) would break the columns. */
const clean = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, " ")

/** Shortens to at most `max` characters, marking the cut with `…`. */
export const truncate = (text: string, max: number): string =>
  text.length <= max ? text : max <= 1 ? text.slice(0, max) : `${text.slice(0, max - 1)}…`

/** `-` for a missing value. */
export const orDash = (value: string | number | null | undefined): string =>
  value === null || value === undefined || value === "" ? "-" : String(value)

/** ISO-8601 to the second, UTC: `2024-05-01T12:00:00Z`; `-` when absent. */
export const formatTime = (value: DateTime.DateTime | null | undefined): string =>
  value === null || value === undefined ? "-" : DateTime.formatIso(DateTime.toUtc(value)).replace(/\.\d{3}Z$/, "Z")

/**
 * Columns as wide as their widest cell (header included), separated by two
 * spaces, a header row first; no trailing spaces. An empty `rows` gives the
 * header row alone.
 */
export const formatTable = <A>(columns: ReadonlyArray<Column<A>>, rows: ReadonlyArray<A>): string => {
  const cells = rows.map((row) => columns.map((column) => clean(column.value(row))))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)))
  const render = (line: ReadonlyArray<string>) =>
    line
      .map((cell, i) => {
        const width = widths[i]!
        return columns[i]!.align === "right" ? cell.padStart(width) : cell.padEnd(width)
      })
      .join("  ")
      .trimEnd()
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join("\n")
}

/** `label  value` lines with the labels padded to one width, for `show` commands. */
export const formatFields = (fields: ReadonlyArray<readonly [label: string, value: string]>): string => {
  const width = Math.max(0, ...fields.map(([label]) => label.length))
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${clean(value)}`.trimEnd()).join("\n")
}
