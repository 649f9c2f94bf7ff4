import { Context, type Effect, type Option } from "effect"
import type { Credential, CredentialId } from "../domain/credentials/models.ts"
import type { PersistenceError } from "./Persistence.ts"

/** A revoked or rotated credential and the generation the change gave it. */
export interface Changed {
  readonly credential: Credential
  readonly generation: number
}

export interface NewCredential {
  readonly id: CredentialId
  readonly storeId: string
  readonly name: string
  readonly type: "API_KEY" | "OAUTH_CLIENT"
  readonly clientId: string
  readonly hashedSecret: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: Date | null
  readonly createdBy: string
}

/** What validation needs about a credential, found by its public client_id (the only way its hash leaves the repository). */
export interface CredentialForValidation {
  readonly credential_id: string
  readonly store_id: string
  readonly type: "API_KEY" | "OAUTH_CLIENT"
  readonly hashed_secret: string
  readonly generation: number
  readonly scopes: ReadonlyArray<string>
  readonly is_active: boolean
  readonly expires_at: Date | null
}

export interface AccessTokenRow {
  readonly credential_id: string
  readonly store_id: string
  readonly scopes: ReadonlyArray<string>
  readonly expires_at: Date
  readonly is_active: boolean
  readonly credential_expires_at: Date | null
  /** The credential's generation now, and the one the token was minted under: a token outlives no revoke or rotate. */
  readonly generation: number
  readonly credential_generation: number
}

export interface NewAccessToken {
  readonly digest: string
  readonly credentialId: string
  readonly generation: number
  readonly storeId: string
  readonly scopes: ReadonlyArray<string>
  readonly ttlSeconds: number
}

/** API credentials and OAuth access tokens. Every admin query names the store. */
export interface CredentialsRepoShape {
  readonly insert: (credential: NewCredential) => Effect.Effect<Credential, PersistenceError>
  readonly list: (storeId: string) => Effect.Effect<ReadonlyArray<Credential>, PersistenceError>
  readonly find: (storeId: string, id: CredentialId) => Effect.Effect<Option.Option<Credential>, PersistenceError>
  /** Deactivates it, raises its generation and deletes its access tokens, in one transaction. */
  readonly revoke: (storeId: string, id: CredentialId) => Effect.Effect<Option.Option<Changed>, PersistenceError>
  /** A new hash and a new generation for an active credential; its access tokens go with the old secret. */
  readonly rotate: (storeId: string, id: CredentialId, hashedSecret: string) => Effect.Effect<Option.Option<Changed>, PersistenceError>
  readonly findForValidation: (clientId: string) => Effect.Effect<Option.Option<CredentialForValidation>, PersistenceError>
  /**
   * Mints a token bound to the generation its client was verified under, only
   * while the client is active at that generation: a token requested while a
   * revoke or rotate commits is refused (None).
   */
  readonly insertAccessToken: (token: NewAccessToken) => Effect.Effect<Option.Option<{ readonly expires_at: Date }>, PersistenceError>
  readonly findAccessToken: (digest: string) => Effect.Effect<Option.Option<AccessTokenRow>, PersistenceError>
  /** One statement for many credentials: last_used_at only moves forward. */
  readonly touchLastUsed: (uses: ReadonlyArray<readonly [string, Date]>) => Effect.Effect<void, PersistenceError>
  readonly purgeExpiredTokens: Effect.Effect<void, PersistenceError>
}

export class CredentialsRepo extends Context.Tag("integration-service/CredentialsRepo")<CredentialsRepo, CredentialsRepoShape>() {}
