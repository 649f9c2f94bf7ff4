import { SqlClient } from "@effect/sql/SqlClient"
import { Data, Effect } from "effect"
import { importedTopic } from "../../domain/connectors/models.ts"
import { ConnectorConfigsRepo } from "./ConnectorConfigsRepo.ts"
import type { ImportedMessage } from "./importedEvents.ts"
import { storableText } from "./marketplace/storable.ts"

/** Published changes are remembered this long (connector_imported_changes; see migration 0006). */
const importedRetention = "30 days"

/** The cursor could not be advanced: this instance's lease was taken over meanwhile. */
export class LeaseLost extends Data.TaggedError("LeaseLost")<{}> {}

export interface PageCommit {
  readonly configId: string
  readonly storeId: string
  readonly owner: string
  readonly leaseSeconds: number
  readonly cursor: string
  readonly messages: ReadonlyArray<ImportedMessage>
  readonly syncId: string
  readonly entityType: string
}

/**
 * One page of a poll, in one transaction: the cursor that resumes after it
 * (and a renewed lease), its changes not published before into the Kafka
 * outbox, and the run's record count. Only while this instance still holds
 * the lease: else another instance polls the same window now, and this page
 * is rolled back (LeaseLost). A crash can neither skip records nor publish
 * them twice. Answers how many changes were published.
 */
export const commitPage = (sql: SqlClient, page: PageCommit) =>
  sql.withTransaction(Effect.gen(function*() {
    const held = yield* sql`
      UPDATE connector_poll_state
      SET cursor = ${storableText(page.cursor)}, updated_at = now(),
          lease_expires_at = now() + ${page.leaseSeconds} * interval '1 second'
      WHERE config_id = ${page.configId} AND lease_owner = ${page.owner} RETURNING config_id`
    if (held.length === 0) return yield* new LeaseLost()
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
    yield* ConnectorConfigsRepo.countRecords(page.syncId, page.entityType, fresh.length).pipe(
      Effect.provideService(SqlClient, sql)
    )
    return fresh.length
  }))

/** Keys of changes published longer ago than the retention are let go of. */
export const pruneImported = (sql: SqlClient, configId: string) =>
  sql`DELETE FROM connector_imported_changes
      WHERE config_id = ${configId} AND published_at < now() - ${importedRetention}::interval`.pipe(Effect.asVoid)
