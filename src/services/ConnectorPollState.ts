import { Context, type Effect, type Option } from "effect"
import type { PersistenceError } from "./Persistence.ts"

/** One page of a poll's results, ready to be committed with the cursor that resumes after it. */
export interface PageCommit {
  readonly configId: string
  readonly storeId: string
  readonly owner: string
  readonly leaseSeconds: number
  readonly cursor: string
  /** `connector.order.imported` messages: their stable event ids (the change keys) and values. */
  readonly messages: ReadonlyArray<{ readonly eventId: string; readonly value: string }>
  readonly syncId: string
  readonly entityType: string
}

/**
 * Inbound polling's state: per config a lease (one instance polls it at a
 * time) and the persisted cursor, and the keys of the changes already
 * published (each change goes out once).
 */
export interface ConnectorPollStateShape {
  /** Takes (or renews) the config's lease; None when another instance holds it. Answers the cursor. */
  readonly acquire: (
    configId: string,
    owner: string,
    leaseSeconds: number
  ) => Effect.Effect<Option.Option<{ readonly cursor: Option.Option<string> }>, PersistenceError>
  /**
   * One page in one transaction: the cursor (and a renewed lease), its changes
   * not published before into the Kafka outbox, and the run's record count.
   * None when this instance no longer holds the lease (nothing is written).
   * Answers how many changes were published.
   */
  readonly commitPage: (page: PageCommit) => Effect.Effect<Option.Option<number>, PersistenceError>
  /** Change keys published longer ago than the retention are let go of. */
  readonly pruneImported: (configId: string) => Effect.Effect<void, PersistenceError>
  readonly release: (configId: string, owner: string) => Effect.Effect<void, PersistenceError>
  /** Every lease `owner` holds (shutdown). */
  readonly releaseAll: (owner: string) => Effect.Effect<void, PersistenceError>
}

export class ConnectorPollState extends Context.Tag("integration-service/ConnectorPollState")<
  ConnectorPollState,
  ConnectorPollStateShape
>() {}
