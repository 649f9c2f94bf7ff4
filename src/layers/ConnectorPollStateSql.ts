import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Layer, Option } from "effect"
import { importedTopic } from "../domain/connectors/models.ts"
import { storableText } from "../domain/storable.ts"
import { ConnectorPollState, type ConnectorPollStateShape } from "../services/ConnectorPollState.ts"
import { inTransaction, persistence } from "./sqlErrors.ts"

/** Published changes are remembered this long (connector_imported_changes; see migration 0006). */
const importedRetention = "30 days"

export const makeConnectorPollStateSql = Effect.map(SqlClient, (sql) => {
  const state: ConnectorPollStateShape = {
    acquire: (configId, owner, leaseSeconds) =>
      sql<{ cursor: string | null }>`
        INSERT INTO connector_poll_state (config_id, lease_owner, lease_expires_at)
        VALUES (${configId}, ${owner}, now() + ${leaseSeconds} * interval '1 second')
        ON CONFLICT (config_id) DO UPDATE
          SET lease_owner = EXCLUDED.lease_owner, lease_expires_at = EXCLUDED.lease_expires_at
          WHERE connector_poll_state.lease_owner = EXCLUDED.lease_owner
             OR connector_poll_state.lease_owner IS NULL
             OR connector_poll_state.lease_expires_at < now()
        RETURNING cursor`.pipe(
        persistence("take a poll lease"),
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (row) => ({ cursor: Option.fromNullable(row.cursor) })))
      ),

    // Only while this instance still holds the lease: else another instance polls the same
    // window now, and this page is rolled back. A crash can neither skip records nor publish them twice.
    commitPage: (page) =>
      inTransaction(sql, "commit a poll page")(Effect.gen(function*() {
        const held = yield* sql`
          UPDATE connector_poll_state
          SET cursor = ${storableText(page.cursor)}, updated_at = now(),
              lease_expires_at = now() + ${page.leaseSeconds} * interval '1 second'
          WHERE config_id = ${page.configId} AND lease_owner = ${page.owner} RETURNING config_id`
        if (held.length === 0) return Option.none<number>()
        const ids = page.messages.map((m) => m.eventId)
        // Changes published before (a window overlapping the previous one, a page read again) are not published again.
        const fresh = ids.length === 0 ? [] : yield* sql`
          WITH fresh AS (
            INSERT INTO connector_imported_changes (config_id, event_id)
            SELECT ${page.configId}, e FROM UNNEST(${ids}::uuid[]) AS u(e)
            ON CONFLICT (config_id, event_id) DO NOTHING
            RETURNING event_id
          )
          INSERT INTO kafka_outbox (topic, message_key, value)
          SELECT ${importedTopic}, ${page.storeId}, m.v
          FROM UNNEST(${ids}::uuid[], ${page.messages.map((m) => m.value)}::text[]) WITH ORDINALITY AS m(e, v, n)
          WHERE m.e IN (SELECT event_id FROM fresh)
          ORDER BY m.n
          RETURNING message_id`
        yield* sql`UPDATE connector_sync_log SET record_count = record_count + ${fresh.length}, entity_type = ${page.entityType}
                   WHERE sync_id = ${page.syncId}`
        return Option.some(fresh.length)
      })),

    pruneImported: (configId) =>
      sql`DELETE FROM connector_imported_changes
          WHERE config_id = ${configId} AND published_at < now() - ${importedRetention}::interval`.pipe(
        persistence("prune published change keys"),
        Effect.asVoid
      ),

    release: (configId, owner) =>
      sql`UPDATE connector_poll_state SET lease_owner = NULL, lease_expires_at = NULL
          WHERE config_id = ${configId} AND lease_owner = ${owner}`.pipe(persistence("release a poll lease"), Effect.asVoid),

    releaseAll: (owner) =>
      sql`UPDATE connector_poll_state SET lease_owner = NULL, lease_expires_at = NULL
          WHERE lease_owner = ${owner}`.pipe(persistence("release poll leases"), Effect.asVoid)
  }
  return ConnectorPollState.of(state)
})

export const ConnectorPollStateSql = Layer.effect(ConnectorPollState, makeConnectorPollStateSql)
