import { SqlClient } from "@effect/sql/SqlClient"
import { DateTime, Effect, Option, Schema } from "effect"
import { type ConfigId, ConnectorConfig, SyncLogEntry } from "../../domain/connectors/models.ts"
import { storableText } from "./marketplace/storable.ts"

const Row = Schema.Struct({
  config_id: Schema.String,
  store_id: Schema.String,
  connector_type: Schema.String,
  display_name: Schema.String,
  is_active: Schema.Boolean,
  event_subscriptions: Schema.Array(Schema.String),
  settings: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  credentials_version: Schema.Number,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
})
type Row = typeof Row.Type
const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

export interface StoredConfig {
  readonly config: ConnectorConfig
  readonly credentialsVersion: number
}

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

const columns = `config_id, store_id, connector_type, display_name, is_active, event_subscriptions, settings,
  credentials_version, created_at, updated_at`

// Failures stay typed (SqlError, ParseError): a database blip fails the request or the run
// that met it, and the caller decides what that means (a 503, a failed poll), not the fiber.
const many = <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  query.pipe(Effect.flatMap(decodeRows), Effect.map((rows) => rows.map(toConfig)))
const one = <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  many(query).pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

export interface NewConfig {
  readonly id: ConfigId
  readonly storeId: string
  readonly connectorType: string
  readonly displayName: string
  readonly isActive: boolean
  readonly eventSubscriptions: ReadonlyArray<string>
  readonly settings: unknown
}

export interface ConfigPatch {
  readonly displayName?: string | undefined
  readonly eventSubscriptions?: ReadonlyArray<string> | undefined
  readonly settings?: unknown
  readonly isActive?: boolean | undefined
}

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

export interface NewRun {
  readonly configId: string
  readonly storeId: string
  readonly entityType: string
  readonly startedAt: Date
}

/** What the sync log keeps of an error. */
const maxSummaryChars = 1000

/** Every admin query names the store: a request can never reach another store's config. */
export const ConnectorConfigsRepo = {
  insert: (c: NewConfig) =>
    Effect.flatMap(SqlClient, (sql) =>
      one(sql`
        INSERT INTO connector_configs (config_id, store_id, connector_type, display_name, is_active, event_subscriptions, settings)
        VALUES (${c.id}, ${c.storeId}, ${c.connectorType}, ${c.displayName}, ${c.isActive}, ${c.eventSubscriptions},
                ${JSON.stringify(c.settings)}::jsonb)
        RETURNING ${sql.literal(columns)}`).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.dieMessage("INSERT … RETURNING answered no row"),
          onSome: Effect.succeed
        }))
      )),

  list: (storeId: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      many(sql`SELECT ${sql.literal(columns)} FROM connector_configs WHERE store_id = ${storeId}
               ORDER BY created_at DESC, config_id DESC`)),

  find: (storeId: string, id: ConfigId) =>
    Effect.flatMap(SqlClient, (sql) =>
      one(sql`SELECT ${sql.literal(columns)} FROM connector_configs WHERE store_id = ${storeId} AND config_id = ${id}`)),

  /** Any store's config (the poll fibers and workers, which have no store in hand). */
  findById: (id: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      one(sql`SELECT ${sql.literal(columns)} FROM connector_configs WHERE config_id = ${id}`)),

  update: (storeId: string, id: ConfigId, patch: ConfigPatch) =>
    Effect.flatMap(SqlClient, (sql) =>
      one(sql`
        UPDATE connector_configs SET
          display_name = COALESCE(${patch.displayName ?? null}, display_name),
          event_subscriptions = COALESCE(${patch.eventSubscriptions ?? null}::text[], event_subscriptions),
          settings = COALESCE(${patch.settings === undefined ? null : JSON.stringify(patch.settings)}::jsonb, settings),
          is_active = COALESCE(${patch.isActive ?? null}::boolean, is_active),
          updated_at = now()
        WHERE store_id = ${storeId} AND config_id = ${id}
        RETURNING ${sql.literal(columns)}`)),

  remove: (storeId: string, id: ConfigId) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`DELETE FROM connector_configs WHERE store_id = ${storeId} AND config_id = ${id} RETURNING config_id`.pipe(
        Effect.map((rows) => rows.length > 0)
      )),

  bumpCredentialsVersion: (storeId: string, id: ConfigId) =>
    Effect.flatMap(SqlClient, (sql) =>
      one(sql`UPDATE connector_configs SET credentials_version = credentials_version + 1, updated_at = now()
              WHERE store_id = ${storeId} AND config_id = ${id} RETURNING ${sql.literal(columns)}`)),

  /** Every active config: what the poll supervisor runs. */
  listActive: Effect.flatMap(SqlClient, (sql) =>
    many(sql`SELECT ${sql.literal(columns)} FROM connector_configs WHERE is_active`)),

  /**
   * An inbound run (a poll) as it goes: RUNNING from when it holds the lease,
   * its record count raised in each page's transaction, SUCCEEDED or FAILED at
   * the end. Error summaries quote marketplaces: storable and bounded here.
   */
  startRun: (run: NewRun) =>
    Effect.flatMap(SqlClient, (sql) => {
      const syncId = crypto.randomUUID()
      return sql`INSERT INTO connector_sync_log
            (sync_id, config_id, store_id, direction, entity_type, record_count, status, started_at)
          VALUES (${syncId}, ${run.configId}, ${run.storeId}, 'INBOUND'::connector_sync_direction,
                  ${run.entityType}, 0, 'RUNNING'::connector_sync_status, ${run.startedAt.toISOString()}::timestamptz)`
        .pipe(Effect.as(syncId))
    }),

  /** Inside a page's transaction: the records it published. */
  countRecords: (syncId: string, entityType: string, published: number) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`UPDATE connector_sync_log SET record_count = record_count + ${published}, entity_type = ${entityType}
          WHERE sync_id = ${syncId}`.pipe(Effect.asVoid)),

  finishRun: (syncId: string, status: "SUCCEEDED" | "FAILED", errorSummary: string | null) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`UPDATE connector_sync_log
          SET status = ${status}::connector_sync_status, finished_at = now(),
              error_summary = ${errorSummary === null ? null : storableText(errorSummary, maxSummaryChars)}
          WHERE sync_id = ${syncId}`.pipe(Effect.asVoid)),

  /** A run that did nothing worth a line (stopped before its first page was committed). */
  dropRun: (syncId: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`DELETE FROM connector_sync_log WHERE sync_id = ${syncId} AND record_count = 0`.pipe(
        Effect.map((rows) => rows.length > 0)
      )),

  /**
   * Runs of a config left RUNNING by an instance that stopped mid-poll (a
   * crash): closed as FAILED by the next poll, which holds the lease now.
   */
  closeStaleRuns: (configId: string, before: Date) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`UPDATE connector_sync_log
          SET status = 'FAILED'::connector_sync_status, finished_at = now(),
              error_summary = 'interrupted: the instance polling it stopped before the end (continued by a later poll)'
          WHERE config_id = ${configId} AND direction = 'INBOUND' AND status = 'RUNNING'
            AND started_at < ${before.toISOString()}::timestamptz`.pipe(Effect.asVoid)),

  syncLog: (storeId: string, id: ConfigId, limit: number) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`SELECT sync_id, config_id, direction::text AS direction, entity_type, record_count, status::text AS status,
                 error_summary, started_at, finished_at
          FROM connector_sync_log WHERE store_id = ${storeId} AND config_id = ${id}
          ORDER BY started_at DESC, sync_id DESC LIMIT ${limit}`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(SyncRow))),
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
      ))
}
