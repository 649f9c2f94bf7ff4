import { Effect, Option, Redacted } from "effect"
import { type SubscriptionId, SubscriptionWithSecret } from "../../domain/webhooks/models.ts"
import { insecureUrlsAllowed } from "../../services/AppConfig.ts"
import type { NewSubscription, SubscriptionPatch } from "../../services/SubscriptionsRepo.ts"
import { SubscriptionsRepo } from "../../services/SubscriptionsRepo.ts"
import { InvalidRequest, NotFound } from "../../domain/api/errors.ts"
import { SigningSecrets } from "./SigningSecrets.ts"
import { signalWebhooks } from "../delivery/DeliverySignals.ts"
import { checkTargetUrl } from "./targetUrl.ts"

const notFound = NotFound.of("webhook subscription")
const found = <A>(option: Option.Option<A>) => Option.match(option, { onNone: () => Effect.fail(notFound), onSome: Effect.succeed })

/**
 * What store admins do with webhook subscriptions: the target URL checked (in
 * live mode https and public addresses only), the signing secret kept in
 * Vault and shown once, on create and on rotate.
 */
export class Subscriptions extends Effect.Service<Subscriptions>()("integration-service/Subscriptions", {
  effect: Effect.gen(function*() {
    const repo = yield* SubscriptionsRepo
    const secrets = yield* SigningSecrets
    const policy = { allowInsecure: yield* insecureUrlsAllowed }
    const validUrl = (url: string) => Effect.mapError(checkTargetUrl(url, policy), InvalidRequest.of)

    return {
      create: (storeId: string, input: Omit<NewSubscription, "id" | "storeId">) =>
        Effect.gen(function*() {
          const targetUrl = yield* validUrl(input.targetUrl)
          const id = crypto.randomUUID() as SubscriptionId
          const secret = yield* secrets.create(id)
          const stored = yield* repo.insert({ ...input, id, storeId, targetUrl, events: [...new Set(input.events)] }).pipe(
            // No subscription, no secret: Vault keeps nothing for a row that was never written.
            Effect.tapError(() => Effect.ignore(secrets.remove(id)))
          )
          yield* secrets.remember(id, stored.secretVersion, secret)
          return SubscriptionWithSecret.make({ ...stored.subscription, signingSecret: Redacted.value(secret) })
        }),
      list: (storeId: string) => Effect.map(repo.list(storeId), (rows) => ({ items: rows.map((r) => r.subscription) })),
      show: (storeId: string, id: SubscriptionId) => repo.find(storeId, id).pipe(Effect.flatMap(found), Effect.map((s) => s.subscription)),
      update: (storeId: string, id: SubscriptionId, patch: SubscriptionPatch) =>
        Effect.gen(function*() {
          const targetUrl = patch.targetUrl === undefined ? undefined : yield* validUrl(patch.targetUrl)
          const updated = yield* repo.update(storeId, id, {
            ...patch,
            targetUrl,
            events: patch.events ? [...new Set(patch.events)] : undefined
          }).pipe(Effect.flatMap(found))
          return updated.subscription
        }),
      remove: (storeId: string, id: SubscriptionId) =>
        Effect.gen(function*() {
          if (!(yield* repo.remove(storeId, id))) return yield* Effect.fail(notFound)
          yield* secrets.remove(id).pipe(
            Effect.catchAll((error) => Effect.logWarning("could not delete a signing secret from Vault", error))
          )
        }),
      /** The previous secret keeps signing beside the new one for `overlapSeconds` (receivers switch without a gap). */
      recover: (storeId: string, id: SubscriptionId, since: Date) =>
        Effect.gen(function*() {
          const ids = yield* repo.recover(storeId, id, since).pipe(Effect.flatMap(found))
          yield* signalWebhooks(ids)
          return { recovered: ids.length }
        }),
      rotateSecret: (storeId: string, id: SubscriptionId, overlapSeconds: number) =>
        Effect.gen(function*() {
          yield* repo.find(storeId, id).pipe(Effect.flatMap(found))
          const secret = yield* secrets.rotate(id, overlapSeconds > 0)
          const rotated = yield* repo.bumpSecretVersion(storeId, id, overlapSeconds).pipe(Effect.flatMap(found))
          return SubscriptionWithSecret.make({ ...rotated.subscription, signingSecret: Redacted.value(secret) })
        })
    }
  })
}) {}
