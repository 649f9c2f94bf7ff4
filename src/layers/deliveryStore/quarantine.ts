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

export const listQuarantined = (sql: SqlClient) => (options: { readonly storeId?: string | undefined; readonly limit: number }) =>
  sql<{
    quarantine_id: string
    topic: string
    kafka_partition: number
    kafka_offset: string
    reason: string
    detail: string
    size_bytes: number
    store_id: string | null
    event_id: string | null
    quarantined_at: Date
  }>`
    SELECT quarantine_id::text AS quarantine_id, topic, kafka_partition, kafka_offset, reason, detail, size_bytes,
           store_id, event_id::text AS event_id, quarantined_at
    FROM quarantined_events
    ${options.storeId !== undefined ? sql`WHERE store_id = ${options.storeId}` : sql``}
    ORDER BY quarantined_at DESC, quarantine_id DESC LIMIT ${options.limit}`.pipe(
    persistence("list quarantined events"),
    Effect.map((rows): ReadonlyArray<QuarantinedEvent> =>
      rows.map((r) => ({
        id: r.quarantine_id,
        topic: r.topic,
        partition: r.kafka_partition,
        offset: r.kafka_offset,
        reason: r.reason,
        detail: r.detail,
        sizeBytes: r.size_bytes,
        storeId: r.store_id,
        eventId: r.event_id,
        quarantinedAt: r.quarantined_at
      }))
    )
  )
