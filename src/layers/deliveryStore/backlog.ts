import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { WebhookBacklog } from "../../services/DeliveryStore.ts"
import { persistence } from "../sqlErrors.ts"

/**
 * The webhook backlog at a glance, for the metrics: how long the oldest
 * waiting delivery (PENDING or FAILED) has waited since it was created,
 * overall and for the `top` endpoints waiting longest, and how many endpoints
 * are in each health state. Three statements, one after the other (no
 * transaction: each is a consistent snapshot of its own).
 */
export const webhookBacklog = (sql: SqlClient) => (top: number) =>
  Effect.gen(function*() {
    const oldest = yield* sql<{ subscription_id: string; age: number }>`
      SELECT subscription_id::text AS subscription_id,
             extract(epoch FROM now() - min(created_at))::float8 AS age
      FROM webhook_deliveries
      WHERE status IN ('PENDING', 'FAILED') AND subscription_id IS NOT NULL
      GROUP BY subscription_id
      ORDER BY age DESC
      LIMIT ${top}`.pipe(persistence("read the webhook backlog"))
    const [states] = yield* sql<{ healthy: number; failing: number; paused: number; disabled: number }>`
      SELECT count(*) FILTER (WHERE is_active AND paused_until IS NULL AND consecutive_failures = 0)::int AS healthy,
             count(*) FILTER (WHERE is_active AND paused_until IS NULL AND consecutive_failures > 0)::int AS failing,
             count(*) FILTER (WHERE is_active AND paused_until IS NOT NULL)::int AS paused,
             count(*) FILTER (WHERE NOT is_active)::int AS disabled
      FROM webhook_subscriptions`.pipe(persistence("count endpoints by state"))
    return {
      oldestAgeSeconds: oldest[0]?.age ?? 0,
      oldestBySubscription: oldest.map((r) => ({ subscriptionId: r.subscription_id, ageSeconds: r.age })),
      endpointsByState: states ?? { healthy: 0, failing: 0, paused: 0, disabled: 0 }
    } satisfies WebhookBacklog
  })
