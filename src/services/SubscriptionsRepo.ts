import { Context, type Effect, type Option } from "effect"
import type { Subscription, SubscriptionId } from "../domain/webhooks/models.ts"
import type { PersistenceError } from "./Persistence.ts"

export interface StoredSubscription {
  readonly subscription: Subscription
  /** Bumped by every rotation: instances cache signing keys by (subscription, version). */
  readonly secretVersion: number
}

export interface NewSubscription {
  readonly id: SubscriptionId
  readonly storeId: string
  readonly name: string
  readonly targetUrl: string
  readonly events: ReadonlyArray<string>
  readonly isActive: boolean
  readonly maxInFlight?: number | undefined
}

export interface SubscriptionPatch {
  readonly name?: string | undefined
  readonly targetUrl?: string | undefined
  readonly events?: ReadonlyArray<string> | undefined
  readonly isActive?: boolean | undefined
  readonly maxInFlight?: number | undefined
}

/** Webhook subscriptions. Every query names the store: a request can never reach another store's subscription. */
export interface SubscriptionsRepoShape {
  readonly insert: (subscription: NewSubscription) => Effect.Effect<StoredSubscription, PersistenceError>
  readonly list: (storeId: string) => Effect.Effect<ReadonlyArray<StoredSubscription>, PersistenceError>
  readonly find: (storeId: string, id: SubscriptionId) => Effect.Effect<Option.Option<StoredSubscription>, PersistenceError>
  readonly update: (
    storeId: string,
    id: SubscriptionId,
    patch: SubscriptionPatch
  ) => Effect.Effect<Option.Option<StoredSubscription>, PersistenceError>
  readonly remove: (storeId: string, id: SubscriptionId) => Effect.Effect<boolean, PersistenceError>
  /**
   * After a new secret was written to Vault: instances re-read it on their next
   * delivery; the previous one keeps signing for `overlapSeconds` (0: not at all).
   */
  readonly bumpSecretVersion: (
    storeId: string,
    id: SubscriptionId,
    overlapSeconds: number
  ) => Effect.Effect<Option.Option<StoredSubscription>, PersistenceError>
  /**
   * Switches the subscription on with a closed breaker and queues again its
   * deliveries created since `since` that did not succeed (FAILED or
   * DEAD_LETTERED, none in flight), in one transaction: their ids, or None
   * when there is no such subscription.
   */
  readonly recover: (
    storeId: string,
    id: SubscriptionId,
    since: Date
  ) => Effect.Effect<Option.Option<ReadonlyArray<string>>, PersistenceError>
}

export class SubscriptionsRepo extends Context.Tag("integration-service/SubscriptionsRepo")<
  SubscriptionsRepo,
  SubscriptionsRepoShape
>() {}
