import { Schema } from "effect"

/**
 * The columns every table of a store's records has: its store, and when the row was made and
 * last changed (admin listings sort by them), as PostgreSQL and PGlite return them.
 */
export const StoreRowColumns = {
  store_id: Schema.String,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
}

