import { Context, type Effect, type Option, Schema } from "effect"
import type { DeliveryStatus } from "../domain/webhooks/models.ts"
import type { PersistenceError } from "./Persistence.ts"

/**
 * Deliveries as the admin API reads and re-triggers them: a store's webhook
 * deliveries, or one connector config's runs (the same rows; a delivery's
 * target is a subscription or a config). Every query names the store.
 */
export type DeliveryTarget =
  | { readonly kind: "webhooks" }
  | { readonly kind: "connector"; readonly configId: string }

export interface DeliveryRecord {
  readonly id: string
  readonly subscriptionId: string | null
  readonly configId: string | null
  readonly storeId: string
  readonly eventType: string
  readonly eventId: string
  readonly status: DeliveryStatus
  readonly attemptNumber: number
  readonly httpStatus: number | null
  readonly responseBody: string | null
  readonly nextRetryAt: Date | null
  readonly deliveredAt: Date | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface AttemptRecord {
  readonly attemptNumber: number
  readonly startedAt: Date
  readonly durationMs: number
  readonly httpStatus: number | null
  readonly responseBody: string | null
  readonly error: string | null
}

export interface DeliveryQuery {
  readonly status?: DeliveryStatus | undefined
  readonly subscriptionId?: string | undefined
  readonly eventType?: string | undefined
  /** Created at or after. */
  readonly since?: Date | undefined
  /** Created before. */
  readonly until?: Date | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

export interface BulkRetryFilter {
  readonly status: "DEAD_LETTERED" | "FAILED"
  readonly since?: Date | undefined
  readonly subscriptionId?: string | undefined
}

/** Re-trigger outcomes: the delivery, or why it can't be re-triggered. */
export type RetryOutcome =
  | { readonly _tag: "Retried"; readonly delivery: DeliveryRecord }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "NotRetriable"; readonly status: DeliveryStatus }
  /** A worker holds it (an attempt is in flight): re-triggering now would overlap it. */
  | { readonly _tag: "InFlight" }

/** A store's webhook deliveries at a glance: attempts per minute by outcome, and what is waiting. */
export interface DeliveryStats {
  readonly since: Date
  readonly perMinute: ReadonlyArray<{
    readonly minute: Date
    readonly delivered: number
    readonly failed: number
    readonly deadLettered: number
  }>
  readonly backlog: { readonly pending: number; readonly failed: number; readonly oldestDueAt: Date | null }
  readonly deadLetteredLast24h: number
}

/** A cursor this API did not hand out. */
export class InvalidCursor extends Schema.TaggedError<InvalidCursor>()("InvalidCursor", {}) {}

export interface DeliveriesRepoShape {
  /** Newest first, keyset-paginated. */
  readonly list: (
    storeId: string,
    target: DeliveryTarget,
    query: DeliveryQuery
  ) => Effect.Effect<{ readonly items: ReadonlyArray<DeliveryRecord>; readonly nextCursor: string | null }, InvalidCursor | PersistenceError>
  readonly find: (
    storeId: string,
    target: DeliveryTarget,
    id: string
  ) => Effect.Effect<
    Option.Option<{ readonly delivery: DeliveryRecord; readonly payload: unknown; readonly attempts: ReadonlyArray<AttemptRecord> }>,
    PersistenceError
  >
  /** A failed or dead-lettered delivery starts a fresh cycle: attempt now, then the retry table. */
  readonly retry: (storeId: string, target: DeliveryTarget, id: string) => Effect.Effect<RetryOutcome, PersistenceError>
  /** The last `minutes` minutes, minute by minute (minutes with nothing are left out); one subscription's, or all. */
  readonly stats: (
    storeId: string,
    minutes: number,
    subscriptionId?: string | undefined
  ) => Effect.Effect<DeliveryStats, PersistenceError>
  /** Bulk replay: every matching delivery starts a fresh cycle. Returns their ids. */
  readonly retryMany: (
    storeId: string,
    target: DeliveryTarget,
    filter: BulkRetryFilter
  ) => Effect.Effect<ReadonlyArray<string>, PersistenceError>
  /** How many deliveries `retryMany` with this filter would re-trigger now (none is changed). */
  readonly countRetriable: (
    storeId: string,
    target: DeliveryTarget,
    filter: BulkRetryFilter
  ) => Effect.Effect<number, PersistenceError>
}

export class DeliveriesRepo extends Context.Tag("integration-service/DeliveriesRepo")<DeliveriesRepo, DeliveriesRepoShape>() {}
