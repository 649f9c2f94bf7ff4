import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { OutboxMessage, RelayedMessage, RelayLimits, RelayRound, RelayVerdict, SetAsideMessage } from "../../services/DeliveryStore.ts"
import type { PersistenceError } from "../../services/Persistence.ts"
import { inTransaction, persistence } from "../sqlErrors.ts"

export const enqueueOutbox = (sql: SqlClient) => (messages: ReadonlyArray<OutboxMessage>) =>
  messages.length === 0 ? Effect.void : sql`
    INSERT INTO kafka_outbox (topic, message_key, value)
    SELECT * FROM UNNEST(${messages.map((m) => m.topic)}::text[], ${messages.map((m) => m.key)}::text[],
                         ${messages.map((m) => m.value)}::text[])`.pipe(persistence("enqueue outbox"), Effect.asVoid)

/**
 * One relay round in one transaction: waiting messages are locked (SKIP LOCKED,
 * so instances share the work) and taken, oldest first, while they fit
 * `maxBatchBytes` (Kafka refuses a request over its size limit as a whole, so an
 * uncapped batch of many small messages would fail the same way every round).
 * A message over `maxMessageBytes` can never be published: it is set aside at
 * once. `send` publishes the rest and says which it set aside; then sent ones
 * are deleted and set-aside ones moved to kafka_outbox_set_aside. A failing
 * `send` rolls back: everything waits for the next round.
 */
export const relayOutbox = (sql: SqlClient) =>
<E>(
  limits: RelayLimits,
  send: (messages: ReadonlyArray<RelayedMessage>) => Effect.Effect<RelayVerdict, E>
): Effect.Effect<RelayRound, PersistenceError | E> =>
  inTransaction(sql, "relay outbox")(Effect.gen(function*() {
    const rows = yield* sql<{ message_id: string; topic: string; message_key: string | null; value: string; bytes: number }>`
      SELECT message_id::text AS message_id, topic, message_key, value,
             (octet_length(value) + coalesce(octet_length(message_key), 0))::int AS bytes
      FROM kafka_outbox ORDER BY message_id LIMIT ${limits.maxMessages} FOR UPDATE SKIP LOCKED`.pipe(
      persistence("read outbox")
    )
    if (rows.length === 0) return { taken: 0, setAside: [], more: false }
    const oversized: Array<{ id: string; reason: string }> = []
    const batch: Array<RelayedMessage> = []
    let bytes = 0
    let cut = rows.length === limits.maxMessages
    for (const row of rows) {
      if (row.bytes > limits.maxMessageBytes) {
        oversized.push({ id: row.message_id, reason: `${row.bytes} bytes: over the ${limits.maxMessageBytes}-byte limit` })
        continue
      }
      if (batch.length > 0 && bytes + row.bytes > limits.maxBatchBytes) {
        cut = true
        break
      }
      bytes += row.bytes
      batch.push({ id: row.message_id, topic: row.topic, key: row.message_key, value: row.value, bytes: row.bytes })
    }
    const verdict = batch.length === 0 ? { setAside: [] } : yield* send(batch)
    const setAside = [...oversized, ...verdict.setAside]
    if (setAside.length > 0) {
      yield* sql`
        INSERT INTO kafka_outbox_set_aside (message_id, topic, message_key, value, size_bytes, reason, created_at)
        SELECT o.message_id, o.topic, o.message_key, o.value, octet_length(o.value), a.reason, o.created_at
        FROM UNNEST(${setAside.map((a) => a.id)}::bigint[], ${setAside.map((a) => a.reason)}::text[]) AS a(id, reason)
        JOIN kafka_outbox o ON o.message_id = a.id
        ON CONFLICT (message_id) DO NOTHING`.pipe(persistence("set outbox messages aside"))
    }
    const done = [...batch.map((m) => m.id), ...oversized.map((a) => a.id)]
    yield* sql`DELETE FROM kafka_outbox WHERE message_id = ANY (${done}::bigint[])`.pipe(persistence("delete relayed outbox messages"))
    return { taken: done.length, setAside, more: cut }
  }))

/** The newest set-aside messages, named as the ops API shows them (their values stay in the table). */
export const listSetAside = (sql: SqlClient) => (options: { readonly limit: number }) =>
  sql<SetAsideMessage>`
    SELECT message_id::text AS id, topic, message_key AS key, size_bytes AS "sizeBytes", reason,
           created_at AS "createdAt", set_aside_at AS "setAsideAt"
    FROM kafka_outbox_set_aside ORDER BY set_aside_at DESC, message_id DESC LIMIT ${options.limit}`.pipe(
    persistence("list set-aside outbox messages")
  )
