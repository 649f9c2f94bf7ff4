import type { AttemptResult, ClaimedDelivery } from "../../src/services/DeliveryStore.ts"

/** A claimed delivery's first attempt, answered 2xx: the result a bench records for it. */
export const deliveredResult = (d: ClaimedDelivery, startedAt: Date, durationMs: number): AttemptResult => ({
  deliveryId: d.delivery_id,
  subscriptionId: d.subscription_id,
  connector: null,
  storeId: d.store_id,
  eventType: d.event_type,
  attemptNumber: d.attempt_number + 1,
  cycleAttempts: d.cycle_attempts + 1,
  startedAt,
  durationMs,
  httpStatus: 200,
  responseBody: "",
  error: null,
  status: "DELIVERED",
  retryInMs: null,
  reason: null
})
