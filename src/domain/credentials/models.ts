import { Schema } from "effect"
import { RecordId, StoreRecord, Timestamps } from "../records.ts"

export const knownScopes = [
  "catalog:read",
  "inventory:read",
  "inventory:write",
  "orders:read",
  "customers:read",
  "webhooks:manage"
] as const

export const Scope = Schema.Literal(...knownScopes).annotations({
  message: () => `must be one of ${knownScopes.join(", ")}`
})
export type Scope = typeof Scope.Type

export const CredentialType = Schema.Literal("API_KEY", "OAUTH_CLIENT")
export const CredentialId = RecordId("CredentialId")
export type CredentialId = typeof CredentialId.Type

/** A credential as the admin API shows it: never its secret, never its hash. */
export class Credential extends Schema.Class<Credential>("Credential")({
  ...StoreRecord(CredentialId),
  name: Schema.String,
  type: CredentialType,
  clientId: Schema.String,
  scopes: Schema.Array(Schema.String),
  isActive: Schema.Boolean,
  expiresAt: Schema.NullOr(Schema.DateTimeUtc),
  lastUsedAt: Schema.NullOr(Schema.DateTimeUtc),
  createdBy: Schema.String,
  ...Timestamps
}) {}

/** Issue and rotate answer with the secret: the only time it is ever shown. */
export class CredentialWithSecret extends Credential.extend<CredentialWithSecret>("CredentialWithSecret")({
  /** API_KEY: the whole key. OAUTH_CLIENT: the client secret (use it with `clientId`). */
  secret: Schema.String
}) {}

export const IssueCredential = Schema.Struct({
  name: Schema.Trim.pipe(Schema.minLength(1, { message: () => "must not be empty" }), Schema.maxLength(200)),
  type: CredentialType,
  scopes: Schema.Array(Scope).pipe(Schema.minItems(1, { message: () => "must name at least one scope" })),
  expiresAt: Schema.optional(Schema.DateTimeUtc)
})

/** The gateway's answer for a valid credential (SPEC.md "Gateway"). */
export class ValidCredential extends Schema.Class<ValidCredential>("ValidCredential")({
  valid: Schema.Literal(true),
  storeId: Schema.String,
  scopes: Schema.Array(Schema.String),
  credentialId: Schema.String,
  type: CredentialType
}) {}
