import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { ParseError } from "effect/ParseResult"
import { Effect, Option, Stream } from "effect"
import { isAccessTokenShape, parseApiKey, parseClientCredentials } from "../../domain/credentials/keys.ts"
import type { Presented } from "../../domain/credentials/presented.ts"
import { Notifications } from "../../services/Notifications.ts"
import { PasswordHasher } from "../../services/PasswordHasher.ts"
import { CredentialsRepo } from "./CredentialsRepo.ts"
import { sha256HexSync } from "../../domain/sha256.ts"


export interface Verified {
  readonly credentialId: string
  readonly storeId: string
  readonly scopes: ReadonlyArray<string>
  readonly type: "API_KEY" | "OAUTH_CLIENT"
}

export type Verdict =
  | { readonly _tag: "Valid"; readonly credential: Verified }
  /** Unknown, wrong secret, revoked or expired: all look the same from outside. */
  | { readonly _tag: "Invalid" }
  /** Not a credential of ours at all (wrong shape, bad checksum): refused before any lookup. */
  | { readonly _tag: "Malformed" }

interface CacheEntry {
  readonly credential: Verified
  /** Epoch ms; the credential's (or the token's) expiry. */
  readonly expiresAt: number | null
  readonly cachedAt: number
}

export const credentialsChannel = "integration_service_credentials"

const invalid: Verdict = { _tag: "Invalid" }
const malformed: Verdict = { _tag: "Malformed" }

/** Cached answers are dropped after this long even without a notification (a missed NOTIFY heals). */
const cacheTtlMs = 60_000
const cacheCapacity = 100_000
const lastUsedFlushInterval = "5 seconds"

/**
 * Gateway validation at hot-path speed. A verified credential is cached
 * in-process, keyed by the SHA-256 of what was presented (never the secret),
 * so repeat validations skip bcrypt and the database. Revoke and rotate drop
 * the entries at once here and, through a notification, on every other
 * instance. `last_used_at` is recorded in memory and written every few
 * seconds in one statement, and once more on shutdown.
 */
export class CredentialValidator extends Effect.Service<CredentialValidator>()("integration-service/CredentialValidator", {
  scoped: Effect.gen(function*() {
    const hasher = yield* PasswordHasher
    const notifications = yield* Notifications
    // Captured once: validate() then needs nothing from its caller.
    const sql = yield* Effect.context<SqlClient>()

    const cache = new Map<string, CacheEntry>()
    const byCredential = new Map<string, Set<string>>()
    /** Epoch ms of each credential's latest use since the last flush. */
    const lastUsed = new Map<string, number>()

    const forget = (credentialId: string) => {
      for (const digest of byCredential.get(credentialId) ?? []) cache.delete(digest)
      byCredential.delete(credentialId)
    }
    const forgetAll = () => {
      cache.clear()
      byCredential.clear()
    }
    const remember = (digest: string, entry: CacheEntry) => {
      if (cache.size >= cacheCapacity) {
        // Maps iterate in insertion order: the first key is the oldest entry.
        const oldest = cache.keys().next().value
        if (oldest !== undefined) cache.delete(oldest)
      }
      cache.set(digest, entry)
      const digests = byCredential.get(entry.credential.credentialId) ?? new Set<string>()
      digests.add(digest)
      byCredential.set(entry.credential.credentialId, digests)
    }

    const flushLastUsed = Effect.suspend(() => {
      if (lastUsed.size === 0) return Effect.void
      const batch = [...lastUsed.entries()].map(([id, at]) => [id, new Date(at)] as const)
      lastUsed.clear()
      return CredentialsRepo.touchLastUsed(batch).pipe(
        Effect.catchAll((error) => {
          // Kept for the next round rather than lost.
          for (const [id, at] of batch) if (!lastUsed.has(id)) lastUsed.set(id, at.getTime())
          return Effect.logWarning("could not record last_used_at; will retry", error)
        }),
        Effect.provide(sql)
      )
    })

    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(lastUsedFlushInterval), flushLastUsed)))
    yield* Effect.addFinalizer(() => flushLastUsed)

    yield* notifications.listen(credentialsChannel).pipe(
      Stream.runForEach((payload) => Effect.sync(() => (payload === "*" ? forgetAll() : forget(payload)))),
      Effect.forkScoped
    )

    const fromCache = (digest: string, now: number) => {
      const entry = cache.get(digest)
      if (entry === undefined) return Option.none<Verified>()
      if (now - entry.cachedAt > cacheTtlMs || (entry.expiresAt !== null && entry.expiresAt <= now)) {
        cache.delete(digest)
        return Option.none<Verified>()
      }
      return Option.some(entry.credential)
    }

    const used = (credential: Verified, now: number): Verdict => {
      lastUsed.set(credential.credentialId, now)
      return { _tag: "Valid", credential }
    }

    /** One bcrypt comparison, against a decoy when the client_id is unknown (same cost either way). */
    const verifySecret = (clientId: string, secret: string, type: Verified["type"], digest: string, now: number) =>
      Effect.gen(function*() {
        const row = yield* CredentialsRepo.findForValidation(clientId)
        const matches = yield* hasher.verify(secret, Option.match(row, { onNone: () => hasher.decoyHash, onSome: (r) => r.hashed_secret }))
        if (Option.isNone(row) || !matches) return invalid
        const r = row.value
        const expiresAt = r.expires_at?.getTime() ?? null
        if (!r.is_active || r.type !== type || (expiresAt !== null && expiresAt <= now)) return invalid
        const credential: Verified = { credentialId: r.credential_id, storeId: r.store_id, scopes: r.scopes, type: r.type }
        remember(digest, { credential, expiresAt, cachedAt: now })
        return used(credential, now)
      })

    const verifyToken = (digest: string, now: number) =>
      Effect.gen(function*() {
        const row = yield* CredentialsRepo.findAccessToken(digest)
        if (Option.isNone(row)) return invalid
        const t = row.value
        const expiries = [t.expires_at.getTime(), t.credential_expires_at?.getTime() ?? Infinity]
        const expiresAt = Math.min(...expiries)
        if (!t.is_active || expiresAt <= now) return invalid
        const credential: Verified = { credentialId: t.credential_id, storeId: t.store_id, scopes: t.scopes, type: "OAUTH_CLIENT" }
        remember(digest, { credential, expiresAt, cachedAt: now })
        return used(credential, now)
      })

    // Only verified credentials are cached, so a hit needs no parsing; a miss is parsed
    // (malformed ones are refused before any lookup) and verified against the database.
    const cached = (digest: string, now: number) => {
      const hit = fromCache(digest, now)
      return Option.isSome(hit) ? Effect.succeed(used(hit.value, now)) : undefined
    }

    const validate = (presented: Presented): Effect.Effect<Verdict, SqlError | ParseError> => {
      const now = Date.now()
      switch (presented._tag) {
        case "ApiKey": {
          const digest = sha256HexSync(`k:${presented.key}`)
          const hit = cached(digest, now)
          if (hit) return hit
          const parsed = parseApiKey(presented.key)
          if (Option.isNone(parsed)) return Effect.succeed(malformed)
          return Effect.provide(verifySecret(parsed.value.clientId, parsed.value.secret, "API_KEY", digest, now), sql)
        }
        case "ClientCredentials": {
          const digest = sha256HexSync(`c:${presented.clientId}:${presented.clientSecret}`)
          const hit = cached(digest, now)
          if (hit) return hit
          const parsed = parseClientCredentials(presented.clientId, presented.clientSecret)
          if (Option.isNone(parsed)) return Effect.succeed(malformed)
          return Effect.provide(
            verifySecret(parsed.value.clientId, parsed.value.secret, "OAUTH_CLIENT", digest, now),
            sql
          )
        }
        case "AccessToken": {
          // Not one of ours (wrong length or alphabet): refused before any lookup, like a bad API key.
          if (!isAccessTokenShape(presented.token)) return Effect.succeed(malformed)
          const digest = sha256HexSync(presented.token)
          return cached(digest, now) ?? Effect.provide(verifyToken(digest, now), sql)
        }
      }
    }

    return {
      validate,
      /** After a revoke or rotate: drop it here now, and on the other instances via the notification. */
      invalidate: (credentialId: string) =>
        Effect.sync(() => forget(credentialId)).pipe(
          Effect.zipRight(notifications.notify(credentialsChannel, credentialId))
        ),
      flushLastUsed
    }
  })
}) {}
