import { DateTime, Effect, Option } from "effect"
import type { DeliveryId } from "../../domain/webhooks/models.ts"
import { type BulkRetryFilter, DeliveriesRepo, type DeliveryQuery } from "../../services/DeliveriesRepo.ts"
import { InvalidRequest, NotFound } from "../../domain/api/errors.ts"
import { toDelivery, toDeliveryDetail } from "../delivery/views.ts"
import { signalWebhooks } from "../delivery/DeliverySignals.ts"
import { answerRetry } from "./retryAnswer.ts"

const webhooks = { kind: "webhooks" } as const

const deliveryWords = {
  thing: "delivery",
  noun: "delivery",
  inFlight: "an attempt of this delivery is in flight; try again in a moment"
}

/** A store's webhook deliveries as ops read and re-trigger them. */
export class WebhookDeliveries extends Effect.Service<WebhookDeliveries>()("integration-service/WebhookDeliveries", {
  effect: Effect.gen(function*() {
    const deliveries = yield* DeliveriesRepo
    const signal = (ids: ReadonlyArray<string>) => signalWebhooks(ids)

    return {
      list: (storeId: string, query: DeliveryQuery) =>
        deliveries.list(storeId, webhooks, query).pipe(
          Effect.map((page) => ({ items: page.items.map(toDelivery), nextCursor: page.nextCursor })),
          Effect.catchTag("InvalidCursor", () => Effect.fail(InvalidRequest.of("cursor: is not a cursor this API returned")))
        ),
      show: (storeId: string, id: DeliveryId) =>
        deliveries.find(storeId, webhooks, id).pipe(
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(NotFound.of("delivery")), onSome: Effect.succeed })),
          Effect.map(toDeliveryDetail)
        ),
      stats: (storeId: string, minutes: number, subscriptionId?: string) =>
        deliveries.stats(storeId, minutes, subscriptionId).pipe(
          Effect.map((stats) => ({
            since: DateTime.unsafeMake(stats.since),
            perMinute: stats.perMinute.map((m) => ({ ...m, minute: DateTime.unsafeMake(m.minute) })),
            backlog: {
              ...stats.backlog,
              oldestDueAt: stats.backlog.oldestDueAt === null ? null : DateTime.unsafeMake(stats.backlog.oldestDueAt)
            },
            deadLetteredLast24h: stats.deadLetteredLast24h
          }))
        ),
      retry: (storeId: string, id: DeliveryId) =>
        Effect.gen(function*() {
          const outcome = yield* deliveries.retry(storeId, webhooks, id)
          return toDelivery(yield* answerRetry(outcome, deliveryWords, signal))
        }),
      retryMany: (storeId: string, filter: BulkRetryFilter, options: { readonly dryRun?: boolean | undefined } = {}) =>
        Effect.gen(function*() {
          if (options.dryRun === true) {
            return { retried: 0, matching: yield* deliveries.countRetriable(storeId, webhooks, filter) }
          }
          const ids = yield* deliveries.retryMany(storeId, webhooks, filter)
          yield* signal(ids)
          return { retried: ids.length }
        })
    }
  })
}) {}
