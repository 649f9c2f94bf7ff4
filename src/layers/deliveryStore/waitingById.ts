import type { SqlClient } from "@effect/sql/SqlClient"

/**
 * "Still waiting" (PENDING or FAILED) for a statement that finds its deliveries
 * (`d`) by id, spelled as the two final states it is not. Spelled `status IN
 * ('PENDING', 'FAILED')`, it matches the waiting index and the (store, status)
 * index, and right after a fan-out, while the planner's statistics still say
 * almost nothing is waiting, the planner took one of them, scanning and
 * filtering ten thousand new rows to record 128 results, where 128 key lookups
 * do. Spelled this way no index matches it, and the primary key is the way in.
 * A new state of webhook_delivery_status must be added here if it is final.
 */
export const waitingById = (sql: SqlClient) => sql`d.status NOT IN ('DELIVERED', 'DEAD_LETTERED')`
