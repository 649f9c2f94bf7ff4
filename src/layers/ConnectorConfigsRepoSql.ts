import { SqlClient } from "@effect/sql/SqlClient"
import { DateTime, Effect, Layer, Schema } from "effect"
import { type ConfigId, ConnectorConfig, SyncLogEntry } from "../domain/connectors/models.ts"
import { storableOrNull, storableText } from "../domain/storable.ts"
import { ConnectorConfigsRepo, type ConnectorConfigsRepoShape, type StoredConfig } from "../services/ConnectorConfigsRepo.ts"
import { StoreRowColumns } from "../domain/rows.ts"
import { decodeRows, persistence, rowReaders } from "./sqlErrors.ts"

const Row = Schema.Struct({
  config_id: Schema.String,
  connector_type: Schema.String,
  display_name: Schema.String,
  is_active: Schema.Boolean,
  event_subscriptions: Schema.Array(Schema.String),
  settings: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  credentials_version: Schema.Number,
  ...StoreRowColumns
})
type Row = typeof Row.Type

const SyncRow = Schema.Struct({
  sync_id: Schema.String,
  config_id: Schema.String,
  direction: Schema.Literal("INBOUND", "OUTBOUND"),
  entity_type: Schema.String,
  record_count: Schema.Number,
  status: Schema.Literal("RUNNING", "SUCCEEDED", "FAILED"),
  error_summary: Schema.NullOr(Schema.String),
  started_at: Schema.DateFromSelf,
  finished_at: Schema.NullOr(Schema.DateFromSelf)
})

const toConfig = (row: Row): StoredConfig => ({
  config: ConnectorConfig.make({
    id: row.config_id as ConfigId,
    storeId: row.store_id,
    connectorType: row.connector_type,
    displayName: row.display_name,
    isActive: row.is_active,
    eventSubscriptions: row.event_subscriptions,
    settings: row.settings,
    hasCredentials: row.credentials_version > 0,
    createdAt: DateTime.unsafeMake(row.created_at),
    updatedAt: DateTime.unsafeMake(row.updated_at)
  }),
  credentialsVersion: row.credentials_version
})

const columns = `config_id::text AS config_id, store_id, connector_type, display_name, is_active, event_subscriptions,
  settings, credentials_version, created_at, updated_at`

/** What the sync log keeps of an error. */
const maxSummaryChars = 1000

export const makeConnectorConfigsRepoSql = Effect.gen(function*() {
  const sql = yield* SqlClient
  const syncRows = decodeRows(SyncRow, "read the sync log")
  const { many, one, single } = rowReaders(Row, "read connector configs", toConfig)

  const repo: ConnectorConfigsRepoShape = {
    insert: (c) =>
      single("insert a connector config")(sql`
        INSERT INTO connector_configs (config_id, store_id, connector_type, display_name, is_active, event_subscriptions, settings)
        VALUES (${c.id}, ${c.storeId}, ${c.connectorType}, ${c.displayName}, ${c.isActive}, ${c.eventSubscriptions},
                ${JSON.stringify(c.settings)}::jsonb)
        RETURNING ${sql.literal(columns)}`),
    list: (storeId) =>
      many("list connector configs")(sql`
        SELECT ${sql.literal(columns)} FROM connector_configs WHERE store_id = ${storeId}
        ORDER BY created_at DESC, config_id DESC`),
    find: (storeId, id) =>
      one("find a connector config")(sql`
        SELECT ${sql.literal(columns)} FROM connector_configs WHERE store_id = ${storeId} AND config_id = ${id}`),
    findById: (id) =>
      one("find a connector config")(sql`
        SELECT ${sql.literal(columns)} FROM connector_configs WHERE config_id = ${id}`),
    update: (storeId, id, patch) =>
      one("update a connector config")(sql`
        UPDATE connector_configs SET
          display_name = COALESCE(${patch.displayName ?? null}, display_name),
          event_subscriptions = COALESCE(${patch.eventSubscriptions ?? null}::text[], event_subscriptions),
          settings = COALESCE(${patch.settings === undefined ? null : JSON.stringify(patch.settings)}::jsonb, settings),
          is_active = COALESCE(${patch.isActive ?? null}::boolean, is_active),
          updated_at = now()
        WHERE store_id = ${storeId} AND config_id = ${id}
        RETURNING ${sql.literal(columns)}`),
    remove: (storeId, id) =>
      sql`DELETE FROM connector_configs WHERE store_id = ${storeId} AND config_id = ${id} RETURNING config_id`.pipe(
        persistence("delete a connector config"),
        Effect.map((rows) => rows.length > 0)
      ),
    bumpCredentialsVersion: (storeId, id) =>
      one("store connector credentials")(sql`
        UPDATE connector_configs SET credentials_version = credentials_version + 1, updated_at = now()
        WHERE store_id = ${storeId} AND config_id = ${id} RETURNING ${sql.literal(columns)}`),
    listActive: many("list active connector configs")(sql`
      SELECT ${sql.literal(columns)} FROM connector_configs WHERE is_active`),
    startRun: (run) => {
      const syncId = crypto.randomUUID()
      return sql`
        INSERT INTO connector_sync_log (sync_id, config_id, store_id, direction, entity_type, record_count, status, started_at)
        VALUES (${syncId}, ${run.configId}, ${run.storeId}, 'INBOUND'::connector_sync_direction,
                ${run.entityType}, 0, 'RUNNING'::connector_sync_status, ${run.startedAt.toISOString()}::timestamptz)`.pipe(
        persistence("start a sync-log run"),
        Effect.as(syncId)
      )
    },
    countRecords: (syncId, entityType, published) =>
      sql`UPDATE connector_sync_log SET record_count = record_count + ${published}, entity_type = ${entityType}
          WHERE sync_id = ${syncId}`.pipe(persistence("count a run's records"), Effect.asVoid),
    finishRun: (syncId, status, errorSummary) =>
      sql`UPDATE connector_sync_log
          SET status = ${status}::connector_sync_status, finished_at = now(),
              error_summary = ${storableOrNull(errorSummary, maxSummaryChars)}
          WHERE sync_id = ${syncId}`.pipe(persistence("finish a sync-log run"), Effect.asVoid),
    dropRun: (syncId) =>
      sql`DELETE FROM connector_sync_log WHERE sync_id = ${syncId} AND record_count = 0 RETURNING sync_id`.pipe(
        persistence("drop a sync-log run"),
        Effect.map((rows) => rows.length > 0)
      ),
    closeStaleRuns: (configId, before) =>
      sql`UPDATE connector_sync_log
          SET status = 'FAILED'::connector_sync_status, finished_at = now(),
              error_summary = 'interrupted: the instance polling it stopped before the end (continued by a later poll)'
          WHERE config_id = ${configId} AND direction = 'INBOUND' AND status = 'RUNNING'
            AND started_at < ${before.toISOString()}::timestamptz`.pipe(persistence("close stale runs"), Effect.asVoid),
    recordOutboundRuns: (results) => {
      if (results.length === 0) return Effect.void
      const run = <A>(f: (r: (typeof results)[number]) => A) => results.map(f)
      return sql`
        INSERT INTO connector_sync_log
          (sync_id, config_id, store_id, direction, entity_type, record_count, status, error_summary, started_at, finished_at)
        SELECT gen_random_uuid(), u.config_id, u.store_id, 'OUTBOUND', u.entity_type, u.record_count,
               u.status::connector_sync_status, u.error_summary, u.started_at, now()
        FROM UNNEST(${run((r) => r.connector!.configId)}::uuid[], ${run((r) => r.storeId)}::text[],
                    ${run((r) => storableText(r.connector!.entityType, 200))}::text[], ${run((r) => r.connector!.recordCount)}::int[],
                    ${run((r) => (r.status === "DELIVERED" ? "SUCCEEDED" : "FAILED"))}::text[],
                    ${run((r) => storableOrNull(r.error, maxSummaryChars))}::text[],
                    ${run((r) => r.startedAt.toISOString())}::timestamptz[])
             AS u(config_id, store_id, entity_type, record_count, status, error_summary, started_at)`.pipe(
        persistence("record outbound runs"),
        Effect.asVoid
      )
    },
    syncLog: (storeId, id, limit) =>
      sql`SELECT sync_id::text AS sync_id, config_id::text AS config_id, direction::text AS direction, entity_type,
                 record_count, status::text AS status, error_summary, started_at, finished_at
          FROM connector_sync_log WHERE store_id = ${storeId} AND config_id = ${id}
          ORDER BY started_at DESC, sync_id DESC LIMIT ${limit}`.pipe(
        persistence("read the sync log"),
        Effect.flatMap(syncRows),
        Effect.map((rows) =>
          rows.map((r) =>
            SyncLogEntry.make({
              id: r.sync_id,
              configId: r.config_id as ConfigId,
              direction: r.direction,
              entityType: r.entity_type,
              recordCount: r.record_count,
              status: r.status,
              errorSummary: r.error_summary,
              startedAt: DateTime.unsafeMake(r.started_at),
              finishedAt: r.finished_at ? DateTime.unsafeMake(r.finished_at) : null
            })
          )
        )
      )
  }
  return ConnectorConfigsRepo.of(repo)
})

export const ConnectorConfigsRepoSql = Layer.effect(ConnectorConfigsRepo, makeConnectorConfigsRepoSql)
