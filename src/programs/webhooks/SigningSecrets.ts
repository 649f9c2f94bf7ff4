import { Cache, Data, Duration, Effect, Exit, Option, Redacted } from "effect"
import type { SubscriptionId } from "../../domain/webhooks/models.ts"
import { newSecretString } from "../../domain/webhooks/signature.ts"
import { type SigningKeys, signingKeysOf } from "../../domain/webhooks/signing.ts"
import { Vault, type VaultError } from "../../services/Vault.ts"

export class SigningSecretMissing extends Data.TaggedError("SigningSecretMissing")<{
  readonly subscriptionId: string
}> {
  override get message() {
    return `no signing secret in Vault for subscription ${this.subscriptionId}`
  }
}

/** A secret Vault holds that cannot sign (empty): a misconfiguration, failing each attempt with this reason. */
export class SigningSecretInvalid extends Data.TaggedError("SigningSecretInvalid")<{
  readonly subscriptionId: string
}> {
  override get message() {
    return `the signing secret in Vault for subscription ${this.subscriptionId} is empty`
  }
}

const secretPath = (id: string) => `integration-service/webhook/${id}`

/** `whsec_` + standard base64 of 32 random bytes, as Standard Webhooks receivers expect it. */
const generateSecret = () => Redacted.make(newSecretString())

/** The keys an attempt signs with: the current secret's, and during a rotation's overlap the previous one's. */
export interface SubscriptionKeys {
  readonly current: SigningKeys
  readonly previous: Option.Option<SigningKeys>
}

/**
 * Per-subscription HMAC secrets: written to Vault (key `secret`, and during a
 * rotation's overlap `previous`), read back into an in-process cache of
 * signing keys keyed by (subscription, secret version). A rotation bumps the
 * version in the database, so the next delivery on any instance misses the
 * cache and reads the new secret: no Vault read per delivery. Whether the
 * previous secret still signs is the database's to say (its overlap ends at a
 * time), not the cache's.
 */
export class SigningSecrets extends Effect.Service<SigningSecrets>()("integration-service/SigningSecrets", {
  effect: Effect.gen(function*() {
    const vault = yield* Vault
    const keys = yield* Cache.makeWith({
      capacity: 50_000,
      // A failed lookup (Vault down, secret missing) is not remembered: the next attempt asks again.
      timeToLive: (exit) => (Exit.isSuccess(exit) ? Duration.hours(6) : Duration.zero),
      lookup: (cacheKey: string) => {
        const id = cacheKey.slice(0, cacheKey.indexOf("@"))
        return vault.read(secretPath(id)).pipe(
          Effect.flatMap((secret): Effect.Effect<SubscriptionKeys, SigningSecretMissing | SigningSecretInvalid> =>
            Option.match(Option.flatMap(secret, (data) => Option.fromNullable(data["secret"])), {
              onNone: () => Effect.fail(new SigningSecretMissing({ subscriptionId: id })),
              onSome: (value) =>
                Redacted.value(value).length === 0
                  ? Effect.fail(new SigningSecretInvalid({ subscriptionId: id }))
                  : Effect.succeed({
                    current: signingKeysOf(Redacted.value(value)),
                    previous: Option.flatMap(secret, (data) => Option.fromNullable(data["previous"])).pipe(
                      Option.filter((p) => Redacted.value(p).length > 0),
                      Option.map((p) => signingKeysOf(Redacted.value(p)))
                    )
                  })
            })
          )
        )
      }
    })

    /** A fresh secret stored for the subscription; the caller shows it once. */
    const create = (id: SubscriptionId) => {
      const secret = generateSecret()
      return Effect.as(vault.write(secretPath(id), { secret }), secret)
    }

    /**
     * A new secret at the same path; with `keepPrevious` the one it replaces is
     * kept beside it (a secret older than that is dropped). Callers then bump
     * the version and say until when the previous one signs.
     */
    const rotate = (id: SubscriptionId, keepPrevious: boolean) =>
      Effect.gen(function*() {
        const secret = generateSecret()
        const current = keepPrevious
          ? Option.flatMap(yield* vault.read(secretPath(id)), (data) => Option.fromNullable(data["secret"]))
          : Option.none()
        yield* vault.write(
          secretPath(id),
          Option.match(current, { onNone: () => ({ secret }), onSome: (previous) => ({ secret, previous }) })
        )
        return secret
      })

    /**
     * The keys of a secret this instance just stored (the subscription's row now
     * names its version): its first deliveries sign without reading it back from
     * Vault, which for a store's thousands of new subscriptions is as many reads.
     */
    const remember = (id: SubscriptionId, version: number, secret: Redacted.Redacted<string>) =>
      keys.set(`${id}@${version}`, { current: signingKeysOf(Redacted.value(secret)), previous: Option.none() })

    return {
      create,
      remember,
      rotate,
      remove: (id: SubscriptionId) => vault.delete(secretPath(id)),
      key: (id: string, version: number): Effect.Effect<SubscriptionKeys, SigningSecretMissing | SigningSecretInvalid | VaultError> =>
        keys.get(`${id}@${version}`)
    }
  })
}) {}
