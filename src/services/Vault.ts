import { Context, Data, type Effect, type Option, type Redacted } from "effect"

/**
 * The secret store (Vault KV v2 in live mode). A secret is a map of keys to
 * values under a path relative to the KV mount, e.g. `integration-service/webhook/{id}`.
 * Values are `Redacted` so they never reach a log line or an error message.
 */
export type SecretData = Readonly<Record<string, Redacted.Redacted<string>>>

export class VaultError extends Data.TaggedError("VaultError")<{
  readonly operation: "read" | "write" | "delete" | "list"
  readonly path: string
  /** A description that never contains a secret value. */
  readonly reason: string
}> {
  override get message() {
    return `vault ${this.operation} ${this.path} failed: ${this.reason}`
  }
}

export interface VaultShape {
  /** `None` when no secret exists at the path (or its latest version is deleted). */
  readonly read: (path: string) => Effect.Effect<Option.Option<SecretData>, VaultError>
  /** Writes a new version holding exactly `data`. */
  readonly write: (path: string, data: SecretData) => Effect.Effect<void, VaultError>
  /** Deletes the secret and all its versions; deleting a missing secret succeeds. */
  readonly delete: (path: string) => Effect.Effect<void, VaultError>
}

export class Vault extends Context.Tag("integration-service/Vault")<Vault, VaultShape>() {}
