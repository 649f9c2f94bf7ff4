/**
 * What the validator remembers between requests: verified credentials (by the
 * SHA-256 of what was presented, never the secret), the generation each
 * credential is known to have reached by a revoke or rotate, and client_ids
 * found not to exist. Plain synchronous state: the gateway's hot path reads it
 * without an effect.
 */

export type CredentialType = "API_KEY" | "OAUTH_CLIENT"

export interface Verified {
  readonly credentialId: string
  readonly storeId: string
  readonly scopes: ReadonlyArray<string>
  readonly type: CredentialType
  /**
   * The credential's generation when it was verified: revoke and rotate raise
   * it, and whatever was verified (or minted) under an older one is dead.
   */
  readonly generation: number
}

interface Entry {
  readonly credential: Verified
  /** Epoch ms; the credential's (or the token's) expiry. */
  readonly expiresAt: number | null
  readonly cachedAt: number
}

/** Where a verification began: compared when it ends, so one that raced a revoke caches nothing. */
export interface Epoch {
  readonly resets: number
}

export interface CredentialCacheOptions {
  /** Entries are dropped after this long even without a notification (a missed NOTIFY heals). */
  readonly ttlMs: number
  readonly capacity: number
  /** How long a generation learned from a revoke or rotate is kept (longer than any verification takes). */
  readonly supersededTtlMs: number
}

export const makeCredentialCache = (options: CredentialCacheOptions) => {
  const entries = new Map<string, Entry>()
  const byCredential = new Map<string, Set<string>>()
  /** credentialId → the newest generation a revoke or rotate gave it, and when that was learned. */
  const superseded = new Map<string, { readonly generation: number; readonly at: number }>()
  /** Raised when everything is dropped (the listener reconnected: notifications may have been missed). */
  let resets = 0

  const drop = (credentialId: string) => {
    for (const digest of byCredential.get(credentialId) ?? []) entries.delete(digest)
    byCredential.delete(credentialId)
  }

  /** Whether a revoke or rotate this instance knows of made `generation` of the credential obsolete. */
  const isSuperseded = (credentialId: string, generation: number) =>
    (superseded.get(credentialId)?.generation ?? 0) > generation

  return {
    epoch: (): Epoch => ({ resets }),
    isSuperseded,

    /** The verified credential cached for `digest`, while unexpired, uncached after `ttlMs`. */
    get: (digest: string, now: number): Verified | undefined => {
      const entry = entries.get(digest)
      if (entry === undefined) return undefined
      if (now - entry.cachedAt > options.ttlMs || (entry.expiresAt !== null && entry.expiresAt <= now)) {
        entries.delete(digest)
        return undefined
      }
      return entry.credential
    },

    /** Caches a verification begun at `epoch`, unless the credential was revoked or rotated (or the cache reset) meanwhile. */
    put: (digest: string, credential: Verified, expiresAt: number | null, now: number, epoch: Epoch) => {
      if (epoch.resets !== resets || isSuperseded(credential.credentialId, credential.generation)) return
      if (entries.size >= options.capacity) {
        // Maps iterate in insertion order: the first key is the oldest entry.
        const oldest = entries.keys().next().value
        if (oldest !== undefined) entries.delete(oldest)
      }
      entries.set(digest, { credential, expiresAt, cachedAt: now })
      const digests = byCredential.get(credential.credentialId) ?? new Set<string>()
      digests.add(digest)
      byCredential.set(credential.credentialId, digests)
    },

    /** A revoke or rotate gave `credentialId` generation `generation`: everything verified under an older one goes. */
    supersede: (credentialId: string, generation: number, now: number) => {
      const known = superseded.get(credentialId)
      if (known === undefined || known.generation < generation) superseded.set(credentialId, { generation, at: now })
      drop(credentialId)
    },

    /** Everything: notifications may have been missed. */
    reset: () => {
      resets++
      entries.clear()
      byCredential.clear()
    },

    /** Forgets generations learned long ago: no verification that began before them is still running. */
    prune: (now: number) => {
      for (const [id, known] of superseded) if (now - known.at > options.supersededTtlMs) superseded.delete(id)
    }
  }
}

export type CredentialCache = ReturnType<typeof makeCredentialCache>

/**
 * client_ids looked up and not found, for a short while: a forged key
 * presented again costs no query. Safe without invalidation: a client_id is
 * random and new when issued, so none can be looked up before it exists.
 */
export const makeUnknownClientIds = (options: { readonly ttlMs: number; readonly capacity: number }) => {
  const until = new Map<string, number>()
  return {
    has: (clientId: string, now: number) => {
      const expiry = until.get(clientId)
      if (expiry === undefined) return false
      if (expiry <= now) {
        until.delete(clientId)
        return false
      }
      return true
    },
    add: (clientId: string, now: number) => {
      if (until.size >= options.capacity) {
        const oldest = until.keys().next().value
        if (oldest !== undefined) until.delete(oldest)
      }
      until.set(clientId, now + options.ttlMs)
    },
    delete: (clientId: string) => void until.delete(clientId)
  }
}
