import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import type { FanOutResult, NewDelivery } from "../../services/DeliveryStore.ts"
import { persistence } from "../sqlErrors.ts"

const utf8Bytes = (text: string) => Buffer.byteLength(text, "utf8")

/**
 * One delivery per matching active webhook subscription and per matching
 * active connector config of each event's store, for a whole batch of events
 * in one statement (one round trip). The unique (subscription_id, event_id)
 * and (config_id, event_id) keys make a re-consumed event a no-op. Answers the
 * deliveries created and, per event, whether anything matched it (the ledger's
 * matched/unmatched counts).
 */
export const createForEvents = (sql: SqlClient) => (events: ReadonlyArray<EventEnvelope>) => {
  if (events.length === 0) return Effect.succeed<FanOutResult>({ created: [], matched: [] })
  const payloads = events.map((e) => JSON.stringify(e))
  return sql<{ kind: "created" | "matched"; id: string; is_connector: boolean }>`
    WITH e AS (
      SELECT * FROM UNNEST(${events.map((e) => e.eventId)}::uuid[], ${events.map((e) => e.eventType)}::text[],
                           ${events.map((e) => e.storeId)}::text[], ${payloads}::text[],
                           ${payloads.map(utf8Bytes)}::int[]) WITH ORDINALITY
        AS e(event_id, event_type, store_id, payload, payload_bytes, n)
    ), targets AS (
      SELECT e.*, s.subscription_id, NULL::uuid AS config_id
      FROM e JOIN webhook_subscriptions s
        ON s.store_id = e.store_id AND s.is_active AND (e.event_type = ANY (s.events) OR '*' = ANY (s.events))
      UNION ALL
      SELECT e.*, NULL::uuid, c.config_id
      FROM e JOIN connector_configs c
        ON c.store_id = e.store_id AND c.is_active AND e.event_type = ANY (c.event_subscriptions)
    ), inserted AS (
      INSERT INTO webhook_deliveries
        (delivery_id, subscription_id, config_id, store_id, event_type, event_id, event_payload, payload_bytes, next_retry_at)
      SELECT gen_random_uuid(), subscription_id, config_id, store_id, event_type, event_id, payload::jsonb, payload_bytes, now()
      FROM targets
      ON CONFLICT DO NOTHING
      RETURNING delivery_id, config_id IS NOT NULL AS is_connector
    )
    SELECT 'created' AS kind, delivery_id::text AS id, is_connector FROM inserted
    UNION ALL
    SELECT DISTINCT 'matched', n::text, false FROM targets`.pipe(
    persistence("fan-out"),
    Effect.map((rows) => {
      const matched = events.map(() => false)
      const created: Array<NewDelivery> = []
      for (const row of rows) {
        if (row.kind === "created") created.push({ deliveryId: row.id, lane: row.is_connector ? "connector" : "webhook" })
        else matched[Number(row.id) - 1] = true
      }
      return { created, matched }
    })
  )
}
