import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { DisabledSubscription, DisableRequest } from "../../services/DeliveryStore.ts"
import { persistence } from "../sqlErrors.ts"

/**
 * Switches webhook subscriptions off on the engine's word (a 410 Gone, an
 * endpoint failing for days). Only those still on are returned, so that one
 * disable is announced once however many attempts saw it. Their deliveries
 * are not touched: claims skip inactive subscriptions, and the backlog flows
 * again when an admin switches the subscription back on.
 */
export const disableSubscriptions = (sql: SqlClient) => (requests: ReadonlyArray<DisableRequest>) => {
  // One reason per subscription (the first asked for).
  const byId = new Map<string, string>()
  for (const r of requests) if (!byId.has(r.subscriptionId)) byId.set(r.subscriptionId, r.reason)
  if (byId.size === 0) return Effect.succeed<ReadonlyArray<DisabledSubscription>>([])
  return sql<{ subscription_id: string; store_id: string; reason: string }>`
    UPDATE webhook_subscriptions s SET is_active = false, disabled_reason = u.reason, disabled_at = now(), updated_at = now()
    FROM UNNEST(${[...byId.keys()]}::uuid[], ${[...byId.values()]}::text[]) AS u(subscription_id, reason)
    WHERE s.subscription_id = u.subscription_id AND s.is_active
    RETURNING s.subscription_id::text AS subscription_id, s.store_id, u.reason`.pipe(
    persistence("disable subscriptions"),
    Effect.map((rows) => rows.map((r) => ({ subscriptionId: r.subscription_id, storeId: r.store_id, reason: r.reason })))
  )
}
