import { DateTime, Effect, Option } from "effect"
import { Conflict, InvalidRequest, NotFound } from "../../domain/api/errors.ts"
import { credentialKeys, newClientId } from "../../domain/credentials/keys.ts"
import { type CredentialId, CredentialWithSecret } from "../../domain/credentials/models.ts"
import { CredentialsRepo } from "../../services/CredentialsRepo.ts"
import { CryptoPrimitives } from "../../services/CryptoPrimitives.ts"
import { PasswordHasher } from "../../services/PasswordHasher.ts"
import { CredentialValidator } from "./CredentialValidator.ts"

const notFound = NotFound.of("credential")
const found = <A>(option: Option.Option<A>) => Option.match(option, { onNone: () => Effect.fail(notFound), onSome: Effect.succeed })

export interface IssueInput {
  readonly name: string
  readonly type: "API_KEY" | "OAUTH_CLIENT"
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt?: DateTime.Utc | undefined
  readonly createdBy: string
}

/**
 * What store admins do with API credentials: the secret is made here, shown in
 * the answer once, and only its bcrypt hash is kept. Revoke and rotate are
 * final: the validator (here and, by notification, on every instance) accepts
 * nothing of the old generation from then on.
 */
export class Credentials extends Effect.Service<Credentials>()("integration-service/Credentials", {
  effect: Effect.gen(function*() {
    const repo = yield* CredentialsRepo
    const hasher = yield* PasswordHasher
    const validator = yield* CredentialValidator
    const { newSecret } = credentialKeys((yield* CryptoPrimitives).crc32)

    return {
      issue: (storeId: string, input: IssueInput) =>
        Effect.gen(function*() {
          const now = yield* DateTime.now
          if (input.expiresAt !== undefined && DateTime.lessThanOrEqualTo(input.expiresAt, now)) {
            return yield* Effect.fail(InvalidRequest.of("expiresAt: must be in the future"))
          }
          const clientId = newClientId(input.type)
          const issued = newSecret(input.type, clientId)
          const credential = yield* repo.insert({
            id: crypto.randomUUID() as CredentialId,
            storeId,
            name: input.name,
            type: input.type,
            clientId,
            hashedSecret: yield* hasher.hash(issued.secret),
            scopes: [...new Set(input.scopes)],
            expiresAt: input.expiresAt ? DateTime.toDate(input.expiresAt) : null,
            createdBy: input.createdBy
          })
          return CredentialWithSecret.make({ ...credential, secret: issued.presented })
        }),
      list: (storeId: string) => Effect.map(repo.list(storeId), (items) => ({ items })),
      show: (storeId: string, id: CredentialId) => Effect.flatMap(repo.find(storeId, id), found),
      revoke: (storeId: string, id: CredentialId) =>
        Effect.gen(function*() {
          const revoked = yield* repo.revoke(storeId, id).pipe(Effect.flatMap(found))
          yield* validator.invalidate(id, revoked.generation, "revoked")
          return revoked.credential
        }),
      rotate: (storeId: string, id: CredentialId) =>
        Effect.gen(function*() {
          const existing = yield* repo.find(storeId, id).pipe(Effect.flatMap(found))
          if (!existing.isActive) return yield* Effect.fail(Conflict.of("a revoked credential cannot be rotated"))
          const issued = newSecret(existing.type, existing.clientId)
          const rotated = yield* repo.rotate(storeId, id, yield* hasher.hash(issued.secret))
          if (Option.isNone(rotated)) return yield* Effect.fail(Conflict.of("a revoked credential cannot be rotated"))
          yield* validator.invalidate(id, rotated.value.generation, "rotated")
          return CredentialWithSecret.make({ ...rotated.value.credential, secret: issued.presented })
        })
    }
  })
}) {}
