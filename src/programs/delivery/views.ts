import { DateTime } from "effect"
import { ConnectorRun, ConnectorRunDetail } from "../../domain/connectors/models.ts"
import {
  Delivery,
  DeliveryAttempt,
  DeliveryDetail,
  type DeliveryId,
  type SubscriptionId
} from "../../domain/webhooks/models.ts"
import type { AttemptRecord, DeliveryRecord } from "../../services/DeliveriesRepo.ts"
import type { ConfigId } from "../../domain/connectors/models.ts"

/** Repository records as the API shows them: webhook deliveries, and connector runs. */
const utc = (date: Date) => DateTime.unsafeMake(date)
const utcOrNull = (date: Date | null) => (date === null ? null : utc(date))

const common = (d: DeliveryRecord) => ({
  storeId: d.storeId,
  eventType: d.eventType,
  eventId: d.eventId,
  status: d.status,
  attemptNumber: d.attemptNumber,
  nextRetryAt: utcOrNull(d.nextRetryAt),
  createdAt: utc(d.createdAt),
  updatedAt: utc(d.updatedAt)
})

const attempt = (a: AttemptRecord) =>
  DeliveryAttempt.make({
    attemptNumber: a.attemptNumber,
    startedAt: utc(a.startedAt),
    durationMs: a.durationMs,
    httpStatus: a.httpStatus,
    responseBody: a.responseBody,
    error: a.error
  })

export const toDelivery = (d: DeliveryRecord) =>
  Delivery.make({
    ...common(d),
    id: d.id as DeliveryId,
    subscriptionId: d.subscriptionId as SubscriptionId,
    httpStatus: d.httpStatus,
    responseBody: d.responseBody,
    deliveredAt: utcOrNull(d.deliveredAt)
  })

/** A delivery or run found with what the detail views add: its payload and its attempts. */
interface Found {
  readonly delivery: DeliveryRecord
  readonly payload: unknown
  readonly attempts: ReadonlyArray<AttemptRecord>
}

const details = (found: Found) => ({ payload: found.payload, attempts: found.attempts.map(attempt) })

export const toDeliveryDetail = (found: Found) => DeliveryDetail.make({ ...toDelivery(found.delivery), ...details(found) })

export const toConnectorRun = (d: DeliveryRecord) =>
  ConnectorRun.make({
    ...common(d),
    id: d.id,
    configId: d.configId as ConfigId,
    finishedAt: utcOrNull(d.deliveredAt)
  })

export const toConnectorRunDetail = (found: Found) => ConnectorRunDetail.make({ ...toConnectorRun(found.delivery), ...details(found) })
