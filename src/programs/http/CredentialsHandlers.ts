import { HttpApiBuilder } from "@effect/platform"
import { DateTime, Effect, Option } from "effect"
import { credentialKeys, newClientId } from "../../domain/credentials/keys.ts"
import { type CredentialId, CredentialWithSecret } from "../../domain/credentials/models.ts"
import { CryptoPrimitives } from "../../services/CryptoPrimitives.ts"
import { PasswordHasher } from "../../services/PasswordHasher.ts"
import { CredentialsRepo } from "../credentials/CredentialsRepo.ts"
import { CredentialValidator } from "../credentials/CredentialValidator.ts"
import { Api } from "../../domain/api/Api.ts"
import { Conflict, InvalidRequest, NotFound } from "../../domain/api/errors.ts"

const notFound = NotFound.of("credential")

export const CredentialsHandlers = HttpApiBuilder.group(Api, "credentials", (handlers) =>
  Effect.gen(function*() {
    const hasher = yield* PasswordHasher
    const validator = yield* CredentialValidator
    const { newSecret } = credentialKeys((yield* CryptoPrimitives).crc32)

    return handlers
      .handle("issue", ({ path: { storeId }, payload, headers }) =>
        Effect.gen(function*() {
          const now = yield* DateTime.now
          if (payload.expiresAt !== undefined && DateTime.lessThanOrEqualTo(payload.expiresAt, now)) {
            return yield* Effect.fail(InvalidRequest.of("expiresAt: must be in the future"))
          }
          const clientId = newClientId(payload.type)
          const issued = newSecret(payload.type, clientId)
          const credential = yield* CredentialsRepo.insert({
            id: crypto.randomUUID() as CredentialId,
            storeId,
            name: payload.name,
            type: payload.type,
            clientId,
            hashedSecret: yield* hasher.hash(issued.secret),
            scopes: [...new Set(payload.scopes)],
            expiresAt: payload.expiresAt ? DateTime.toDate(payload.expiresAt) : null,
            createdBy: headers["x-ss3-actor"] ?? "admin-token"
          })
          return CredentialWithSecret.make({ ...credential, secret: issued.presented })
        }))
      .handle("list", ({ path: { storeId } }) =>
        CredentialsRepo.list(storeId).pipe(Effect.map((items) => ({ items }))))
      .handle("show", ({ path: { storeId, id } }) =>
        CredentialsRepo.find(storeId, id).pipe(Effect.flatMap(Option.match({ onNone: () => Effect.fail(notFound), onSome: Effect.succeed }))))
      .handle("revoke", ({ path: { storeId, id } }) =>
        Effect.gen(function*() {
          const revoked = yield* CredentialsRepo.revoke(storeId, id)
          if (Option.isNone(revoked)) return yield* Effect.fail(notFound)
          yield* validator.invalidate(id, revoked.value.generation, "revoked")
          return revoked.value.credential
        }))
      .handle("rotate", ({ path: { storeId, id } }) =>
        Effect.gen(function*() {
          const existing = yield* CredentialsRepo.find(storeId, id)
          if (Option.isNone(existing)) return yield* Effect.fail(notFound)
          if (!existing.value.isActive) return yield* Effect.fail(Conflict.of("a revoked credential cannot be rotated"))
          const issued = newSecret(existing.value.type, existing.value.clientId)
          const rotated = yield* CredentialsRepo.rotate(storeId, id, yield* hasher.hash(issued.secret))
          if (Option.isNone(rotated)) return yield* Effect.fail(Conflict.of("a revoked credential cannot be rotated"))
          yield* validator.invalidate(id, rotated.value.generation, "rotated")
          return CredentialWithSecret.make({ ...rotated.value.credential, secret: issued.presented })
        }))
  }))
