import { Console, DateTime } from "effect"

/**
 * Plain-text output of the ops CLI: aligned tables and key/value blocks,
 * nothing but string padding; colour only on a terminal (`useColour`), so the
 * output pipes cleanly into grep/awk.
 */

export interface Column<A> {
  readonly header: string
  readonly value: (row: A) => string
  /** Numbers read better right-aligned. Default: left. */
  readonly align?: "left" | "right"
  /** Colours a cell (after its width is taken); `paint` leaves it plain off a terminal. */
  readonly colour?: (cell: string) => string
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

/** The columns every record's table has: its id, and when it was made or last changed. */
export const idColumn: Column<{ readonly id: string }> = { header: "ID", value: (r) => r.id }
export const createdColumn: Column<{ readonly createdAt: DateTime.DateTime }> = {
  header: "CREATED",
  value: (r) => formatTime(r.createdAt)
}
export const updatedColumn: Column<{ readonly updatedAt: DateTime.DateTime }> = {
  header: "UPDATED",
  value: (r) => formatTime(r.updatedAt)
}

/**
 * Columns as wide as their widest cell (header included), separated by two
 * spaces, a header row first; no trailing spaces. An empty `rows` gives the
 * header row alone.
 */
export const formatTable = <A>(columns: ReadonlyArray<Column<A>>, rows: ReadonlyArray<A>): string => {
  const cells = rows.map((row) => columns.map((column) => clean(column.value(row))))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)))
  const render = (line: ReadonlyArray<string>, isHeader: boolean) =>
    line
      .map((cell, i) => {
        const width = widths[i]!
        const { align, colour } = columns[i]!
        const padding = " ".repeat(width - cell.length)
        const shown = isHeader ? paint("bold", cell) : colour === undefined ? cell : colour(cell)
        return align === "right" ? padding + shown : shown + padding
      })
      .join("  ")
      .replace(/ +$/, "")
  const header = columns.map((column) => column.header)
  return [render(header, true), ...cells.map((line) => render(line, false))].join("\n")
}

/** `label  value` lines with the labels padded to one width, for `show` commands. */
export const formatFields = (fields: ReadonlyArray<readonly [label: string, value: string]>): string => {
  const width = Math.max(0, ...fields.map(([label]) => label.length))
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${clean(value)}`.trimEnd()).join("\n")
}

/** A store's record as `formatFields` prints it: its kind and id, its store, then `fields`. */
export const recordFields = (
  kind: string,
  record: { readonly id: string; readonly storeId: string },
  fields: ReadonlyArray<readonly [label: string, value: string]>
): string => formatFields([[kind, record.id], ["store", record.storeId], ...fields])

/** One JSON document on stdout (what `--json` prints). */
export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

/** `1 delivery`, `2 deliveries`, `0 runs`. */
export const plural = (count: number, one: string, many: string = `${one}s`) => `${count} ${count === 1 ? one : many}`

/**
 * Colour only for a person at a terminal: never when stdout is piped or
 * redirected, never when `NO_COLOR` is set (https://no-color.org).
 */
export const useColour = () => process.stdout.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

const codes = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const

export const paint = (style: keyof typeof codes, text: string) =>
  useColour() ? `\u001b[${codes[style]}m${text}\u001b[0m` : text

/** A delivery's or run's status, coloured by what it means for the reader. */
export const paintStatus = (status: string) =>
  status === "DELIVERED" || status === "SUCCEEDED" || status === "ok"
    ? paint("green", status)
    : status === "DEAD_LETTERED" || status === "FAILED" || status === "unavailable"
    ? paint("red", status)
    : status === "PENDING" || status === "RUNNING"
    ? paint("yellow", status)
    : status

/** Strips colour codes (what a column's width must not count). */
export const visibleLength = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "").length
