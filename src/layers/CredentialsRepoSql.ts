import { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import { Credential, type CredentialId } from "../domain/credentials/models.ts"
import { type Changed, CredentialsRepo, type CredentialsRepoShape } from "../services/CredentialsRepo.ts"
import { StoreRowColumns } from "../domain/rows.ts"
import { decodeRows, inTransaction, persistence, rowReaders } from "./sqlErrors.ts"

const Row = Schema.Struct({
  credential_id: Schema.String,
  name: Schema.String,
  type: Schema.Literal("API_KEY", "OAUTH_CLIENT"),
  client_id: Schema.String,
  scopes: Schema.Array(Schema.String),
  is_active: Schema.Boolean,
  expires_at: Schema.NullOr(Schema.DateFromSelf),
  last_used_at: Schema.NullOr(Schema.DateFromSelf),
  created_by: Schema.String,
  ...StoreRowColumns
})
type Row = typeof Row.Type

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

const Changed = Schema.extend(Row, Schema.Struct({ generation: Schema.Int }))

export const makeCredentialsRepoSql = Effect.gen(function*() {
  const sql = yield* SqlClient
  // Built once: validation runs these on every cold request.
  const validationRows = decodeRows(ForValidation, "read a credential for validation")
  const tokenRows = decodeRows(TokenRow, "read an access token")
  const changedRows = decodeRows(Changed, "change a credential")
  const { many, one, single } = rowReaders(Row, "read credentials", toCredential)
  const changed = (operation: string) => (query: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
    query.pipe(
      persistence(operation),
      Effect.flatMap(changedRows),
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (row): Changed => ({ credential: toCredential(row), generation: row.generation })))
    )

  const repo: CredentialsRepoShape = {
    insert: (c) =>
      single("issue a credential")(sql`
        INSERT INTO api_credentials
          (credential_id, store_id, name, type, client_id, hashed_secret, scopes, expires_at, created_by)
        VALUES (${c.id}, ${c.storeId}, ${c.name}, ${c.type}::api_credential_type, ${c.clientId}, ${c.hashedSecret},
                ${c.scopes}, ${c.expiresAt?.toISOString() ?? null}::timestamptz, ${c.createdBy})
        RETURNING ${sql.literal(columns)}`),
    list: (storeId) =>
      many("list credentials")(sql`SELECT ${sql.literal(columns)} FROM api_credentials WHERE store_id = ${storeId}
               ORDER BY created_at DESC, credential_id DESC`),
    find: (storeId, id) =>
      one("find a credential")(sql`SELECT ${sql.literal(columns)} FROM api_credentials WHERE store_id = ${storeId} AND credential_id = ${id}`),
    revoke: (storeId, id) =>
      inTransaction(sql, "revoke a credential")(Effect.gen(function*() {
        const revoked = yield* changed("revoke a credential")(sql`
          UPDATE api_credentials SET is_active = FALSE, generation = generation + 1, updated_at = now()
          WHERE store_id = ${storeId} AND credential_id = ${id}
          RETURNING ${sql.literal(columns)}, generation`)
        if (Option.isSome(revoked)) yield* sql`DELETE FROM oauth_access_tokens WHERE credential_id = ${id}`
        return revoked
      })),
    rotate: (storeId, id, hashedSecret) =>
      inTransaction(sql, "rotate a credential")(Effect.gen(function*() {
        const rotated = yield* changed("rotate a credential")(sql`
          UPDATE api_credentials SET hashed_secret = ${hashedSecret}, generation = generation + 1, updated_at = now()
          WHERE store_id = ${storeId} AND credential_id = ${id} AND is_active
          RETURNING ${sql.literal(columns)}, generation`)
        if (Option.isSome(rotated)) yield* sql`DELETE FROM oauth_access_tokens WHERE credential_id = ${id}`
        return rotated
      })),
    findForValidation: (clientId) =>
      sql`SELECT credential_id::text AS credential_id, store_id, type::text AS type, hashed_secret, generation, scopes,
                 is_active, expires_at
          FROM api_credentials WHERE client_id = ${clientId}`.pipe(
        persistence("read a credential for validation"),
        Effect.flatMap(validationRows),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      ),
    insertAccessToken: (token) =>
      sql<{ expires_at: Date }>`
        INSERT INTO oauth_access_tokens (token_digest, credential_id, credential_generation, store_id, scopes, expires_at)
        SELECT ${token.digest}, credential_id, generation, ${token.storeId}, ${token.scopes},
               now() + ${token.ttlSeconds} * interval '1 second'
        FROM api_credentials
        WHERE credential_id = ${token.credentialId} AND generation = ${token.generation} AND is_active
        -- Waits for a revoke or rotate holding the row, then reads what it committed.
        FOR SHARE
        RETURNING expires_at`.pipe(persistence("mint an access token"), Effect.map((rows) => Option.fromNullable(rows[0]))),
    findAccessToken: (digest) =>
      sql`SELECT t.credential_id::text AS credential_id, t.store_id, t.scopes, t.expires_at, c.is_active,
                 c.expires_at AS credential_expires_at, c.generation, t.credential_generation
          FROM oauth_access_tokens t JOIN api_credentials c USING (credential_id)
          WHERE t.token_digest = ${digest}`.pipe(
        persistence("read an access token"),
        Effect.flatMap(tokenRows),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      ),
    touchLastUsed: (uses) =>
      uses.length === 0 ? Effect.void : sql`
        UPDATE api_credentials c SET last_used_at = GREATEST(c.last_used_at, u.used_at)
        FROM UNNEST(${uses.map(([id]) => id)}::uuid[], ${uses.map(([, at]) => at.toISOString())}::timestamptz[])
             AS u(credential_id, used_at)
        WHERE c.credential_id = u.credential_id`.pipe(persistence("record last use"), Effect.asVoid),
    purgeExpiredTokens: sql`DELETE FROM oauth_access_tokens WHERE expires_at < now() - interval '1 hour'`.pipe(
      persistence("purge expired tokens"),
      Effect.asVoid
    )
  }
  return CredentialsRepo.of(repo)
})

export const CredentialsRepoSql = Layer.effect(CredentialsRepo, makeCredentialsRepoSql)
