import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  BulkRetry,
  BulkRetryResult,
  CreateSubscription,
  Delivery,
  DeliveryDetail,
  DeliveryFilters,
  DeliveryId,
  DeliveryPage,
  DeliveryStats,
  DeliveryStatsParams,
  Recovered,
  RecoverDeliveries,
  RotateSecret,
  RotateSecretBody,
  Subscription,
  SubscriptionId,
  SubscriptionWithSecret,
  UpdateSubscription
} from "../webhooks/models.ts"
import { WebhookAuth } from "./auth.ts"
import { Conflict, InvalidRequest, NotFound } from "./errors.ts"
import { guardedBy, storeIdParam, storeResource } from "./groups.ts"
import { strict } from "./payloads.ts"

const subscriptionId = HttpApiSchema.param("id", SubscriptionId)
const deliveryId = HttpApiSchema.param("id", DeliveryId)

export class WebhooksApi extends HttpApiGroup.make("webhooks")
  .pipe(storeResource("webhooks", subscriptionId, {
    item: Subscription,
    created: SubscriptionWithSecret,
    create: CreateSubscription,
    update: UpdateSubscription,
    createSummary: "Subscribe a URL to event types; the answer holds the signing secret"
  }))
  .add(
    HttpApiEndpoint.post("rotateSecret")`/stores/${storeIdParam}/webhooks/${subscriptionId}/secret/rotate`
      // No body at all is the default overlap (an empty body reads as null).
      .setPayload(Schema.compose(RotateSecretBody, strict(RotateSecret)))
      .addSuccess(SubscriptionWithSecret)
      .addError(InvalidRequest)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Replace the signing secret; the answer holds the new one. The previous one keeps signing for overlapSeconds")
  )
  .add(
    HttpApiEndpoint.post("recover")`/stores/${storeIdParam}/webhooks/${subscriptionId}/recover`
      .setPayload(strict(RecoverDeliveries))
      .addSuccess(Recovered, { status: 202 })
      .addError(NotFound)
      .addError(InvalidRequest)
      .annotate(
        OpenApi.Summary,
        "Queue again every delivery since `since` that did not succeed; switches the subscription on and closes its breaker"
      )
  )
  .add(
    HttpApiEndpoint.get("listDeliveries")`/stores/${storeIdParam}/deliveries`
      .setUrlParams(DeliveryFilters)
      .addSuccess(DeliveryPage)
      .addError(InvalidRequest)
      .annotate(OpenApi.Summary, "Deliveries, newest first, filtered by status, subscription, event type and creation time (since, until); pass nextCursor as cursor for the next page")
  )
  .add(
    HttpApiEndpoint.get("deliveryStats")`/stores/${storeIdParam}/deliveries/stats`
      .setUrlParams(DeliveryStatsParams)
      .addSuccess(DeliveryStats)
      .addError(InvalidRequest)
      .annotate(OpenApi.Summary, "Attempts per minute by outcome over the last `minutes` (default 60), the backlog, dead letters in 24 h")
  )
  .add(
    HttpApiEndpoint.get("showDelivery")`/stores/${storeIdParam}/deliveries/${deliveryId}`
      .addSuccess(DeliveryDetail)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.post("retryDelivery")`/stores/${storeIdParam}/deliveries/${deliveryId}/retry`
      .addSuccess(Delivery, { status: 202 })
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "Re-trigger a failed or dead-lettered delivery: attempt now, then the retry table")
  )
  .add(
    HttpApiEndpoint.post("retryDeliveries")`/stores/${storeIdParam}/deliveries/retry`
      .setPayload(strict(BulkRetry))
      .addSuccess(BulkRetryResult, { status: 202 })
      .annotate(OpenApi.Summary, "Re-trigger every matching delivery of the store (bulk replay); with dryRun, only count them")
  )
  .pipe(guardedBy(WebhookAuth, "Webhooks"))
{}
