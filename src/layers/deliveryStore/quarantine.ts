import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { storableText } from "../../domain/storable.ts"
import type { QuarantinedEvent, QuarantineEntry } from "../../services/DeliveryStore.ts"
import { persistence } from "../sqlErrors.ts"

/** Where a message came from and why it was not taken in; a store or event id only when it was readable. */
export const quarantine = (sql: SqlClient) => (entries: ReadonlyArray<QuarantineEntry>) =>
  entries.length === 0 ? Effect.void : sql`
    INSERT INTO quarantined_events (topic, kafka_partition, kafka_offset, reason, detail, size_bytes, store_id, event_id)
    SELECT * FROM UNNEST(
      ${entries.map((e) => storableText(e.topic, 300))}::text[], ${entries.map((e) => e.partition)}::int[],
      ${entries.map((e) => e.offset)}::text[], ${entries.map((e) => e.reason)}::text[],
      ${entries.map((e) => storableText(e.detail, 500))}::text[], ${entries.map((e) => e.sizeBytes)}::int[],
      ${entries.map((e) => e.storeId)}::text[], ${entries.map((e) => e.eventId)}::uuid[])`.pipe(
    persistence("quarantine"),
    Effect.asVoid
  )

/** The newest quarantined messages (of one store), named as the ops API shows them. */
export const listQuarantined = (sql: SqlClient) => (options: { readonly storeId?: string | undefined; readonly limit: number }) =>
  sql<QuarantinedEvent>`
    SELECT quarantine_id::text AS id, topic, kafka_partition AS partition, kafka_offset AS "offset", reason, detail,
           size_bytes AS "sizeBytes", store_id AS "storeId", event_id::text AS "eventId", quarantined_at AS "quarantinedAt"
    FROM quarantined_events
    ${options.storeId !== undefined ? sql`WHERE store_id = ${options.storeId}` : sql``}
    ORDER BY quarantined_at DESC, quarantine_id DESC LIMIT ${options.limit}`.pipe(persistence("list quarantined events"))
