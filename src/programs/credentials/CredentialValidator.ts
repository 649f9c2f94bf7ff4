import { Effect, Metric, Option, Stream } from "effect"
import { credentialKeys, isAccessTokenShape } from "../../domain/credentials/keys.ts"
import type { Presented } from "../../domain/credentials/presented.ts"
import { CryptoPrimitives } from "../../services/CryptoPrimitives.ts"
import { Notifications } from "../../services/Notifications.ts"
import { PasswordHasher } from "../../services/PasswordHasher.ts"
import { type ComparisonsOverloaded, makeComparisonQueue } from "./ComparisonQueue.ts"
import { type CredentialType, makeCredentialCache, makeUnknownClientIds, type Verified } from "./CredentialCache.ts"
import { credentialsChannel, decodeChange, encodeChange, revocationPropagation } from "./credentialChanges.ts"
import { CredentialsRepo } from "../../services/CredentialsRepo.ts"
import type { PersistenceError } from "../../services/Persistence.ts"

export type { Verified } from "./CredentialCache.ts"
export { ComparisonsOverloaded } from "./ComparisonQueue.ts"

export type Verdict =
  | { readonly _tag: "Valid"; readonly credential: Verified }
  /** Unknown, wrong secret, revoked or expired: all look the same from outside. */
  | { readonly _tag: "Invalid" }
  /** Not a credential of ours at all (wrong shape, bad checksum): refused before any lookup. */
  | { readonly _tag: "Malformed" }

const invalid: Verdict = { _tag: "Invalid" }
const malformed: Verdict = { _tag: "Malformed" }

const lastUsedFlushInterval = "5 seconds"

/**
 * Gateway validation at hot-path speed, final on revocation, and fair under
 * floods.
 *
 * A verified credential is cached in-process, keyed by the SHA-256 of what was
 * presented (never the secret), so repeat validations skip bcrypt and the
 * database; `cached` answers them synchronously (the HTTP front door calls it
 * before any fiber exists). Revoke and rotate raise the credential's
 * generation in the database; this instance drops the entries at once, the
 * others when the notification arrives, and a verification that began before
 * the change can neither succeed nor cache once it is known. bcrypt runs only
 * for client_ids that exist (`ComparisonQueue`); unknown ones cost a decoy.
 * `last_used_at` is recorded in memory and written every few seconds in one
 * statement, and once more on shutdown.
 */
export class CredentialValidator extends Effect.Service<CredentialValidator>()("integration-service/CredentialValidator", {
  scoped: Effect.gen(function*() {
    const hasher = yield* PasswordHasher
    const notifications = yield* Notifications
    const primitives = yield* CryptoPrimitives
    const clock = yield* Effect.clock
    const credentials = yield* CredentialsRepo
    const keys = credentialKeys(primitives.crc32)
    /** Names this instance in its notifications, so it skips its own. */
    const instanceId = crypto.randomUUID()

    const cache = makeCredentialCache({ ttlMs: 60_000, capacity: 100_000, supersededTtlMs: 10 * 60_000 })
    const unknownClientIds = makeUnknownClientIds({ ttlMs: 10_000, capacity: 10_000 })
    const queue = yield* makeComparisonQueue(hasher, {
      lanes: 2,
      maxWaitMs: 3_000,
      maxWaitingPerClient: 8,
      initialEstimateMs: 50,
      floodThreshold: 16,
      floodWaitMs: 2_000
    })
    /** Epoch ms of each credential's latest use since the last flush. */
    const lastUsed = new Map<string, number>()
    const now = () => clock.unsafeCurrentTimeMillis()

    const flushLastUsed = Effect.suspend(() => {
      cache.prune(now())
      if (lastUsed.size === 0) return Effect.void
      const batch = [...lastUsed.entries()].map(([id, at]) => [id, new Date(at)] as const)
      lastUsed.clear()
      return credentials.touchLastUsed(batch).pipe(
        Effect.catchAll((error) => {
          // Kept for the next round rather than lost.
          for (const [id, at] of batch) if (!lastUsed.has(id)) lastUsed.set(id, at.getTime())
          return Effect.logWarning("could not record last_used_at; will retry", error)
        })
      )
    })

    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(lastUsedFlushInterval), flushLastUsed)))
    yield* Effect.addFinalizer(() => flushLastUsed)

    const onNotification = (payload: string) =>
      Effect.suspend(() => {
        const received = decodeChange(payload)
        if (received._tag === "Everything") return Effect.sync(cache.reset)
        const { change } = received
        // This instance applied its own change before it sent the notification.
        if (change.from === instanceId) return Effect.void
        const at = now()
        cache.supersede(change.credentialId, change.generation, at)
        return Metric.update(revocationPropagation, Math.max(0, at - change.at) / 1000)
      })
    yield* notifications.listen(credentialsChannel).pipe(Stream.runForEach(onNotification), Effect.forkScoped)

    const used = (credential: Verified, at: number): Verdict => {
      lastUsed.set(credential.credentialId, at)
      return { _tag: "Valid", credential }
    }
    const expired = (expiresAt: number | null, at: number) => expiresAt !== null && expiresAt <= at

    /** One bcrypt comparison for a client_id that exists; a decoy for one that does not. */
    const verifySecret = (clientId: string, secret: string, type: CredentialType, digest: string) =>
      Effect.gen(function*() {
        const epoch = cache.epoch()
        if (unknownClientIds.has(clientId, now())) {
          yield* queue.decoy(secret)
          return invalid
        }
        const row = yield* credentials.findForValidation(clientId)
        if (Option.isNone(row)) {
          unknownClientIds.add(clientId, now())
          yield* queue.decoy(secret)
          return invalid
        }
        const r = row.value
        const matches = yield* queue.real(clientId, secret, r.hashed_secret)
        const at = now()
        const expiresAt = r.expires_at?.getTime() ?? null
        if (!matches || !r.is_active || r.type !== type || expired(expiresAt, at)) return invalid
        // Revoked or rotated while bcrypt ran (here, or heard from another instance): the change wins.
        if (cache.isSuperseded(r.credential_id, r.generation)) return invalid
        const credential: Verified = {
          credentialId: r.credential_id,
          storeId: r.store_id,
          scopes: r.scopes,
          type: r.type,
          generation: r.generation
        }
        cache.put(digest, credential, expiresAt, at, epoch)
        return used(credential, at)
      })

    const verifyToken = (digest: string) =>
      Effect.gen(function*() {
        const epoch = cache.epoch()
        const row = yield* credentials.findAccessToken(digest)
        if (Option.isNone(row)) return invalid
        const t = row.value
        const at = now()
        const expiresAt = Math.min(t.expires_at.getTime(), t.credential_expires_at?.getTime() ?? Infinity)
        // Minted under an older generation: its client was revoked or rotated since.
        const current = t.is_active && t.credential_generation === t.generation &&
          !cache.isSuperseded(t.credential_id, t.credential_generation)
        if (!current || expired(expiresAt, at)) return invalid
        const credential: Verified = {
          credentialId: t.credential_id,
          storeId: t.store_id,
          scopes: t.scopes,
          type: "OAUTH_CLIENT",
          generation: t.credential_generation
        }
        cache.put(digest, credential, expiresAt, at, epoch)
        return used(credential, at)
      })

    /** The cache key of what was presented; undefined for an access token of the wrong shape (never looked up). */
    const digestOf = (presented: Presented) => {
      switch (presented._tag) {
        case "ApiKey":
          return primitives.sha256Hex(`k:${presented.key}`)
        case "ClientCredentials":
          return primitives.sha256Hex(`c:${presented.clientId}:${presented.clientSecret}`)
        case "AccessToken":
          // Not one of ours (wrong length or alphabet): refused before any lookup, like a bad API key.
          return isAccessTokenShape(presented.token) ? primitives.sha256Hex(presented.token) : undefined
      }
    }

    /**
     * A cached, still valid credential for what was presented, recorded as used;
     * undefined otherwise. Synchronous: only verified credentials are cached, so
     * a hit needs no parsing.
     */
    const cached = (presented: Presented): Verified | undefined => {
      const digest = digestOf(presented)
      if (digest === undefined) return undefined
      const at = now()
      const hit = cache.get(digest, at)
      if (hit !== undefined) lastUsed.set(hit.credentialId, at)
      return hit
    }

    /** Of our formats, with a right checksum: worth a lookup. */
    const wellFormed = (presented: Presented) => {
      switch (presented._tag) {
        case "ApiKey":
          return Option.isSome(keys.parseApiKey(presented.key))
        case "ClientCredentials":
          return Option.isSome(keys.parseClientCredentials(presented.clientId, presented.clientSecret))
        case "AccessToken":
          return isAccessTokenShape(presented.token)
      }
    }

    const validate = (presented: Presented): Effect.Effect<Verdict, PersistenceError | ComparisonsOverloaded> =>
      Effect.suspend(() => {
        const digest = digestOf(presented)
        if (digest === undefined) return Effect.succeed(malformed)
        const at = now()
        const hit = cache.get(digest, at)
        if (hit !== undefined) return Effect.succeed(used(hit, at))
        switch (presented._tag) {
          case "ApiKey":
            return Option.match(keys.parseApiKey(presented.key), {
              onNone: () => Effect.succeed(malformed),
              onSome: (p) => verifySecret(p.clientId, p.secret, "API_KEY", digest)
            })
          case "ClientCredentials":
            return Option.match(keys.parseClientCredentials(presented.clientId, presented.clientSecret), {
              onNone: () => Effect.succeed(malformed),
              onSome: (p) => verifySecret(p.clientId, p.secret, "OAUTH_CLIENT", digest)
            })
          case "AccessToken":
            return verifyToken(digest)
        }
      })

    return {
      validate,
      cached,
      wellFormed,
      /**
       * After a revoke or rotate committed with `generation`: nothing verified
       * under an older one is accepted here from now on, nor (once the
       * notification arrives) on any other instance.
       */
      invalidate: (credentialId: string, generation: number, change: "revoked" | "rotated") =>
        Effect.suspend(() => {
          const at = now()
          cache.supersede(credentialId, generation, at)
          return notifications.notify(
            credentialsChannel,
            encodeChange({ credentialId, generation, change, at, from: instanceId })
          )
        }),
      /** What bcrypt is doing: comparisons running and waiting, and what one takes. */
      comparisonLoad: queue.load,
      flushLastUsed
    }
  })
}) {}
