import { HttpApiBuilder } from "@effect/platform"
import { DateTime, Effect } from "effect"
import { Subscriptions } from "../webhooks/Subscriptions.ts"
import { WebhookDeliveries } from "../webhooks/WebhookDeliveries.ts"
import { Api } from "../../domain/api/Api.ts"
import { defaultRotationOverlapSeconds } from "../../domain/webhooks/models.ts"
import { outagesAnswered } from "./outages.ts"

export const WebhooksHandlers = HttpApiBuilder.group(Api, "webhooks", (handlers) =>
  Effect.gen(function*() {
    const subscriptions = yield* Subscriptions
    const deliveries = yield* WebhookDeliveries
    return handlers
      .handle("create", outagesAnswered(({ path, payload }) =>
        subscriptions.create(path.storeId, { ...payload, isActive: payload.isActive ?? true })))
      .handle("list", outagesAnswered(({ path }) => subscriptions.list(path.storeId)))
      .handle("show", outagesAnswered(({ path }) => subscriptions.show(path.storeId, path.id)))
      .handle("update", outagesAnswered(({ path, payload }) => subscriptions.update(path.storeId, path.id, payload)))
      .handle("delete", outagesAnswered(({ path }) => subscriptions.remove(path.storeId, path.id)))
      .handle("rotateSecret", outagesAnswered(({ path, payload }) =>
        subscriptions.rotateSecret(path.storeId, path.id, payload.overlapSeconds ?? defaultRotationOverlapSeconds)))
      .handle("recover", outagesAnswered(({ path, payload }) =>
        subscriptions.recover(path.storeId, path.id, DateTime.toDate(payload.since))))
      .handle("listDeliveries", outagesAnswered(({ path, urlParams }) =>
        deliveries.list(path.storeId, {
          ...urlParams,
          since: urlParams.since ? DateTime.toDate(urlParams.since) : undefined,
          until: urlParams.until ? DateTime.toDate(urlParams.until) : undefined
        })))
      .handle("deliveryStats", outagesAnswered(({ path, urlParams }) =>
        deliveries.stats(path.storeId, urlParams.minutes ?? 60, urlParams.subscriptionId)))
      .handle("showDelivery", outagesAnswered(({ path }) => deliveries.show(path.storeId, path.id)))
      .handle("retryDelivery", outagesAnswered(({ path }) => deliveries.retry(path.storeId, path.id)))
      .handle("retryDeliveries", outagesAnswered(({ path, payload }) =>
        deliveries.retryMany(path.storeId, {
          status: payload.status,
          since: payload.since ? DateTime.toDate(payload.since) : undefined,
          subscriptionId: payload.subscriptionId
        }, { dryRun: payload.dryRun })))
  }))
