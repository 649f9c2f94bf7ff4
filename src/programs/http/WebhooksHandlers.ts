import { HttpApiBuilder } from "@effect/platform"
import { DateTime, Effect, Option, Redacted } from "effect"
import { type SubscriptionId, SubscriptionWithSecret } from "../../domain/webhooks/models.ts"
import type { PersistenceError } from "../../services/Persistence.ts"
import { toDelivery, toDeliveryDetail } from "./deliveryViews.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { DeliveriesRepo } from "../../services/DeliveriesRepo.ts"
import { signalWebhooks } from "../delivery/DeliverySignals.ts"
import { SigningSecrets } from "../webhooks/SigningSecrets.ts"
import { SubscriptionsRepo } from "../webhooks/SubscriptionsRepo.ts"
import { checkTargetUrl } from "../webhooks/targetUrl.ts"
import { Api } from "./Api.ts"
import { Conflict, InvalidRequest, NotFound, ServiceUnavailable } from "./ApiErrors.ts"

const notFound = NotFound.of("webhook subscription")
const orNotFound = <A>(option: Option.Option<A>, error: NotFound = notFound) =>
  Option.match(option, { onNone: () => Effect.fail(error), onSome: Effect.succeed })

export const WebhooksHandlers = HttpApiBuilder.group(Api, "webhooks", (handlers) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const secrets = yield* SigningSecrets
    const policy = { allowInsecure: config.mode === "dev" || config.webhook.allowInsecureTargets }
    const validUrl = (url: string) => Effect.mapError(checkTargetUrl(url, policy), InvalidRequest.of)
    // A Vault outage is the one failure an admin can do nothing about but wait.
    const vaultDown = () => ServiceUnavailable.of("the secret store is unavailable; try again")
    const databaseDown = (error: PersistenceError) => ServiceUnavailable.of(`the database is unavailable (${error.detail}); try again`)
    const deliveries = yield* DeliveriesRepo
    const webhooks = { kind: "webhooks" } as const

    return handlers
      .handle("create", ({ path: { storeId }, payload }) =>
        Effect.gen(function*() {
          const targetUrl = yield* validUrl(payload.targetUrl)
          const id = crypto.randomUUID() as SubscriptionId
          const secret = yield* secrets.create(id).pipe(Effect.mapError(vaultDown))
          const stored = yield* SubscriptionsRepo.insert({
            id,
            storeId,
            name: payload.name,
            targetUrl,
            events: [...new Set(payload.events)],
            isActive: payload.isActive ?? true
          }).pipe(Effect.tapErrorCause(() => Effect.ignore(secrets.remove(id))), Effect.orDie)
          return SubscriptionWithSecret.make({ ...stored.subscription, signingSecret: Redacted.value(secret) })
        }))
      .handle("list", ({ path: { storeId } }) =>
        SubscriptionsRepo.list(storeId).pipe(Effect.map((rows) => ({ items: rows.map((r) => r.subscription) }))))
      .handle("show", ({ path: { storeId, id } }) =>
        SubscriptionsRepo.find(storeId, id).pipe(Effect.flatMap(orNotFound), Effect.map((s) => s.subscription)))
      .handle("update", ({ path: { storeId, id }, payload }) =>
        Effect.gen(function*() {
          const targetUrl = payload.targetUrl === undefined ? undefined : yield* validUrl(payload.targetUrl)
          const updated = yield* SubscriptionsRepo.update(storeId, id, {
            name: payload.name,
            targetUrl,
            events: payload.events ? [...new Set(payload.events)] : undefined,
            isActive: payload.isActive
          }).pipe(Effect.flatMap(orNotFound))
          return updated.subscription
        }))
      .handle("delete", ({ path: { storeId, id } }) =>
        Effect.gen(function*() {
          if (!(yield* SubscriptionsRepo.remove(storeId, id))) return yield* Effect.fail(notFound)
          yield* secrets.remove(id).pipe(
            Effect.catchAll((error) => Effect.logWarning("could not delete a signing secret from Vault", error))
          )
        }))
      .handle("rotateSecret", ({ path: { storeId, id } }) =>
        Effect.gen(function*() {
          yield* SubscriptionsRepo.find(storeId, id).pipe(Effect.flatMap(orNotFound))
          const secret = yield* secrets.rotate(id).pipe(Effect.mapError(vaultDown))
          const rotated = yield* SubscriptionsRepo.bumpSecretVersion(storeId, id).pipe(Effect.flatMap(orNotFound))
          return SubscriptionWithSecret.make({ ...rotated.subscription, signingSecret: Redacted.value(secret) })
        }))
      .handle("listDeliveries", ({ path: { storeId }, urlParams }) =>
        deliveries.list(storeId, webhooks, urlParams).pipe(
          Effect.map((page) => ({ items: page.items.map(toDelivery), nextCursor: page.nextCursor })),
          Effect.catchTags({
            InvalidCursor: () => Effect.fail(InvalidRequest.of("cursor: is not a cursor this API returned")),
            PersistenceError: (error) => Effect.fail(databaseDown(error))
          })
        ))
      .handle("deliveryStats", ({ path: { storeId }, urlParams }) =>
        deliveries.stats(storeId, urlParams.minutes ?? 60, urlParams.subscriptionId).pipe(
          Effect.mapError(databaseDown),
          Effect.map((stats) => ({
            since: DateTime.unsafeMake(stats.since),
            perMinute: stats.perMinute.map((m) => ({ ...m, minute: DateTime.unsafeMake(m.minute) })),
            backlog: {
              ...stats.backlog,
              oldestDueAt: stats.backlog.oldestDueAt === null ? null : DateTime.unsafeMake(stats.backlog.oldestDueAt)
            },
            deadLetteredLast24h: stats.deadLetteredLast24h
          }))
        ))
      .handle("showDelivery", ({ path: { storeId, id } }) =>
        deliveries.find(storeId, webhooks, id).pipe(
          Effect.mapError(databaseDown),
          Effect.flatMap((d) => orNotFound(d, NotFound.of("delivery"))),
          Effect.map(toDeliveryDetail)
        ))
      .handle("retryDelivery", ({ path: { storeId, id } }) =>
        Effect.gen(function*() {
          const outcome = yield* deliveries.retry(storeId, webhooks, id).pipe(Effect.mapError(databaseDown))
          switch (outcome._tag) {
            case "NotFound":
              return yield* Effect.fail(NotFound.of("delivery"))
            case "NotRetriable":
              return yield* Effect.fail(Conflict.of(`a ${outcome.status} delivery cannot be re-triggered`))
            case "InFlight":
              return yield* Effect.fail(Conflict.of("an attempt of this delivery is in flight; try again in a moment"))
            case "Retried":
              yield* signalWebhooks([outcome.delivery.id])
              return toDelivery(outcome.delivery)
          }
        }))
      .handle("retryDeliveries", ({ path: { storeId }, payload }) =>
        Effect.gen(function*() {
          const ids = yield* deliveries.retryMany(storeId, webhooks, {
            status: payload.status,
            since: payload.since ? DateTime.toDate(payload.since) : undefined,
            subscriptionId: payload.subscriptionId
          }).pipe(Effect.mapError(databaseDown))
          yield* signalWebhooks(ids)
          return { retried: ids.length }
        }))
  }))
