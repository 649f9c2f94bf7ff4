/** One column of a table: its name and the rest of its definition (type, constraints, default). */
export type Column = readonly [name: string, definition: string]

/**
 * The text of a `CREATE TABLE` laid out as the first migrations wrote it by hand: one column a
 * line, definitions aligned one space past the longest name. Applied migrations run this text
 * again on every new database, so it must never change; a new layout goes in a new helper.
 */
export const createTable = (table: string, columns: ReadonlyArray<Column>): string => {
  const width = Math.max(...columns.map(([name]) => name.length)) + 1
  const lines = columns.map(([name, definition]) => `      ${name.padEnd(width)}${definition}`)
  return `\n    CREATE TABLE ${table} (\n${lines.join(",\n")}\n    )`
}
