import { SqlClient } from "@effect/sql/SqlClient"
import { DateTime, Effect, Option, Schema } from "effect"
import { Credential, type CredentialId } from "../../domain/credentials/models.ts"

const Row = Schema.Struct({
  credential_id: Schema.String,
  store_id: Schema.String,
  name: Schema.String,
  type: Schema.Literal("API_KEY", "OAUTH_CLIENT"),
  client_id: Schema.String,
  scopes: Schema.Array(Schema.String),
  is_active: Schema.Boolean,
  expires_at: Schema.NullOr(Schema.DateFromSelf),
  last_used_at: Schema.NullOr(Schema.DateFromSelf),
  created_by: Schema.String,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
})
type Row = typeof Row.Type
const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

const utc = (d: Date) => DateTime.unsafeMake(d)
const toCredential = (row: Row) =>
  Credential.make({
    id: row.credential_id as CredentialId,
    storeId: row.store_id,
    name: row.name,
    type: row.type,
    clientId: row.client_id,
    scopes: row.scopes,
    isActive: row.is_active,
    expiresAt: row.expires_at ? utc(row.expires_at) : null,
    lastUsedAt: row.last_used_at ? utc(row.last_used_at) : null,
    createdBy: row.created_by,
    createdAt: utc(row.created_at),
    updatedAt: utc(row.updated_at)
  })

// The hash never leaves the repository except through `findForValidation`.
const columns = `credential_id, store_id, name, type::text AS type, client_id, scopes, is_active, expires_at,
  last_used_at, created_by, created_at, updated_at`

const many = <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  query.pipe(Effect.flatMap(decodeRows), Effect.orDie, Effect.map((rows) => rows.map(toCredential)))
const one = <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  many(query).pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

const decodeChanged = Schema.decodeUnknown(Schema.Array(Schema.extend(Row, Schema.Struct({ generation: Schema.Int }))))
/** A revoked or rotated credential and the generation the change gave it. */
export interface Changed {
  readonly credential: Credential
  readonly generation: number
}
const changed = <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  query.pipe(
    Effect.flatMap(decodeChanged),
    Effect.orDie,
    Effect.map((rows) => Option.fromNullable(rows[0]).pipe(Option.map((row): Changed => ({ credential: toCredential(row), generation: row.generation }))))
  )

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

/** What validation needs about a credential, found by its public client_id. */
const ForValidation = Schema.Struct({
  credential_id: Schema.String,
  store_id: Schema.String,
  type: Schema.Literal("API_KEY", "OAUTH_CLIENT"),
  hashed_secret: Schema.String,
  generation: Schema.Int,
  scopes: Schema.Array(Schema.String),
  is_active: Schema.Boolean,
  expires_at: Schema.NullOr(Schema.DateFromSelf)
})
export type CredentialForValidation = typeof ForValidation.Type

const TokenRow = Schema.Struct({
  credential_id: Schema.String,
  store_id: Schema.String,
  scopes: Schema.Array(Schema.String),
  expires_at: Schema.DateFromSelf,
  is_active: Schema.Boolean,
  credential_expires_at: Schema.NullOr(Schema.DateFromSelf),
  /** The credential's generation now, and the one the token was minted under: a token outlives no revoke or rotate. */
  generation: Schema.Int,
  credential_generation: Schema.Int
})
export type AccessTokenRow = typeof TokenRow.Type

// Built once: validation runs these on every cold request.
const decodeForValidation = Schema.decodeUnknown(Schema.Array(ForValidation))
const decodeTokenRows = Schema.decodeUnknown(Schema.Array(TokenRow))

/** Every admin query names the store: a request can never reach another store's credential. */
export const CredentialsRepo = {
  insert: (c: NewCredential) =>
    Effect.flatMap(SqlClient, (sql) =>
      one(sql`
        INSERT INTO api_credentials
          (credential_id, store_id, name, type, client_id, hashed_secret, scopes, expires_at, created_by)
        VALUES (${c.id}, ${c.storeId}, ${c.name}, ${c.type}::api_credential_type, ${c.clientId}, ${c.hashedSecret},
                ${c.scopes}, ${c.expiresAt?.toISOString() ?? null}::timestamptz, ${c.createdBy})
        RETURNING ${sql.literal(columns)}`)).pipe(Effect.map(Option.getOrThrow)),

  list: (storeId: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      many(sql`SELECT ${sql.literal(columns)} FROM api_credentials WHERE store_id = ${storeId}
               ORDER BY created_at DESC, credential_id DESC`)),

  find: (storeId: string, id: CredentialId) =>
    Effect.flatMap(SqlClient, (sql) =>
      one(sql`SELECT ${sql.literal(columns)} FROM api_credentials WHERE store_id = ${storeId} AND credential_id = ${id}`)),

  /** Deactivates it, raises its generation and deletes its access tokens, in one transaction. */
  revoke: (storeId: string, id: CredentialId) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql.withTransaction(Effect.gen(function*() {
        const revoked = yield* changed(sql`
          UPDATE api_credentials SET is_active = FALSE, generation = generation + 1, updated_at = now()
          WHERE store_id = ${storeId} AND credential_id = ${id}
          RETURNING ${sql.literal(columns)}, generation`)
        if (Option.isSome(revoked)) yield* sql`DELETE FROM oauth_access_tokens WHERE credential_id = ${id}`.pipe(Effect.orDie)
        return revoked
      })).pipe(Effect.orDie)),

  /** A new hash and a new generation for an active credential; its access tokens go with the old secret. */
  rotate: (storeId: string, id: CredentialId, hashedSecret: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql.withTransaction(Effect.gen(function*() {
        const rotated = yield* changed(sql`
          UPDATE api_credentials SET hashed_secret = ${hashedSecret}, generation = generation + 1, updated_at = now()
          WHERE store_id = ${storeId} AND credential_id = ${id} AND is_active
          RETURNING ${sql.literal(columns)}, generation`)
        if (Option.isSome(rotated)) yield* sql`DELETE FROM oauth_access_tokens WHERE credential_id = ${id}`.pipe(Effect.orDie)
        return rotated
      })).pipe(Effect.orDie)),

  findForValidation: (clientId: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`SELECT credential_id, store_id, type::text AS type, hashed_secret, generation, scopes, is_active, expires_at
          FROM api_credentials WHERE client_id = ${clientId}`.pipe(
        Effect.flatMap(decodeForValidation),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )),

  /**
   * Mints a token bound to the generation its client was verified under, only
   * while the client is active at that generation: a token requested while a
   * revoke or rotate commits is refused here (and validation checks the
   * generation too). None when refused.
   */
  insertAccessToken: (token: {
    readonly digest: string
    readonly credentialId: string
    readonly generation: number
    readonly storeId: string
    readonly scopes: ReadonlyArray<string>
    readonly ttlSeconds: number
  }) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql<{ expires_at: Date }>`
        INSERT INTO oauth_access_tokens (token_digest, credential_id, credential_generation, store_id, scopes, expires_at)
        SELECT ${token.digest}, credential_id, generation, ${token.storeId}, ${token.scopes},
               now() + ${token.ttlSeconds} * interval '1 second'
        FROM api_credentials
        WHERE credential_id = ${token.credentialId} AND generation = ${token.generation} AND is_active
        -- Waits for a revoke or rotate holding the row, then reads what it committed.
        FOR SHARE
        RETURNING expires_at`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))),

  findAccessToken: (digest: string) =>
    Effect.flatMap(SqlClient, (sql) =>
      sql`SELECT t.credential_id, t.store_id, t.scopes, t.expires_at, c.is_active,
                 c.expires_at AS credential_expires_at, c.generation, t.credential_generation
          FROM oauth_access_tokens t JOIN api_credentials c USING (credential_id)
          WHERE t.token_digest = ${digest}`.pipe(
        Effect.flatMap(decodeTokenRows),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )),

  /** One statement for many credentials: last_used_at only moves forward. */
  touchLastUsed: (uses: ReadonlyArray<readonly [string, Date]>) =>
    Effect.flatMap(SqlClient, (sql) =>
      uses.length === 0 ? Effect.void : sql`
        UPDATE api_credentials c SET last_used_at = GREATEST(c.last_used_at, u.used_at)
        FROM UNNEST(${uses.map(([id]) => id)}::uuid[], ${uses.map(([, at]) => at.toISOString())}::timestamptz[])
             AS u(credential_id, used_at)
        WHERE c.credential_id = u.credential_id`.pipe(Effect.asVoid)),

  purgeExpiredTokens: Effect.flatMap(SqlClient, (sql) =>
    sql`DELETE FROM oauth_access_tokens WHERE expires_at < now() - interval '1 hour'`.pipe(Effect.asVoid))
}
