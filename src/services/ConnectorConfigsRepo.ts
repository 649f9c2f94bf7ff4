import { Context, type Effect, type Option } from "effect"
import type { ConfigId, ConnectorConfig, SyncLogEntry } from "../domain/connectors/models.ts"
import type { AttemptResult } from "./DeliveryStore.ts"
import type { PersistenceError } from "./Persistence.ts"

/** A config as stored, with the version of its Vault credentials (what a run's context is built from). */
export interface StoredConfig {
  readonly config: ConnectorConfig
  readonly credentialsVersion: number
}

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

export interface NewRun {
  readonly configId: string
  readonly storeId: string
  readonly entityType: string
  readonly startedAt: Date
}

/**
 * Connector configs and their sync log. Every admin query names the store: a
 * request can never reach another store's config. Error summaries quote
 * marketplaces: they are made storable and bounded here.
 */
export interface ConnectorConfigsRepoShape {
  readonly insert: (config: NewConfig) => Effect.Effect<StoredConfig, PersistenceError>
  readonly list: (storeId: string) => Effect.Effect<ReadonlyArray<StoredConfig>, PersistenceError>
  readonly find: (storeId: string, id: ConfigId) => Effect.Effect<Option.Option<StoredConfig>, PersistenceError>
  /** Any store's config (the poll fibers and workers, which have no store in hand). */
  readonly findById: (id: string) => Effect.Effect<Option.Option<StoredConfig>, PersistenceError>
  readonly update: (storeId: string, id: ConfigId, patch: ConfigPatch) => Effect.Effect<Option.Option<StoredConfig>, PersistenceError>
  readonly remove: (storeId: string, id: ConfigId) => Effect.Effect<boolean, PersistenceError>
  /** After new credentials were written to Vault: every instance rebuilds the config's context. */
  readonly bumpCredentialsVersion: (storeId: string, id: ConfigId) => Effect.Effect<Option.Option<StoredConfig>, PersistenceError>
  /** Every active config: what the poll supervisor runs. */
  readonly listActive: Effect.Effect<ReadonlyArray<StoredConfig>, PersistenceError>
  /** An inbound run (a poll) as it goes: RUNNING from when it holds the lease. Answers its sync id. */
  readonly startRun: (run: NewRun) => Effect.Effect<string, PersistenceError>
  /** Inside a page's transaction: the records it published. */
  readonly countRecords: (syncId: string, entityType: string, published: number) => Effect.Effect<void, PersistenceError>
  readonly finishRun: (syncId: string, status: "SUCCEEDED" | "FAILED", errorSummary: string | null) => Effect.Effect<void, PersistenceError>
  /** A run that did nothing worth a line (stopped before its first page was committed). */
  readonly dropRun: (syncId: string) => Effect.Effect<boolean, PersistenceError>
  /** Runs of a config left RUNNING by an instance that stopped mid-poll: closed as FAILED by the next poll. */
  readonly closeStaleRuns: (configId: string, before: Date) => Effect.Effect<void, PersistenceError>
  /** Outbound runs as the delivery engine records them (inside its recording transaction). */
  readonly recordOutboundRuns: (results: ReadonlyArray<AttemptResult>) => Effect.Effect<void, PersistenceError>
  readonly syncLog: (storeId: string, id: ConfigId, limit: number) => Effect.Effect<ReadonlyArray<SyncLogEntry>, PersistenceError>
}

export class ConnectorConfigsRepo extends Context.Tag("integration-service/ConnectorConfigsRepo")<
  ConnectorConfigsRepo,
  ConnectorConfigsRepoShape
>() {}
