import { Context, type Effect } from "effect"

/** One-way hashing of credential secrets (bcrypt in live and dev mode). */
export interface PasswordHasherShape {
  readonly hash: (secret: string) => Effect.Effect<string>
  /** Constant-time in the secret; `false` for a hash it cannot read. */
  readonly verify: (secret: string, hash: string) => Effect.Effect<boolean>
  /** A hash of nothing anyone holds: compared against when a client_id is unknown, so that costs the same time. */
  readonly decoyHash: string
}

export class PasswordHasher extends Context.Tag("integration-service/PasswordHasher")<PasswordHasher, PasswordHasherShape>() {}
