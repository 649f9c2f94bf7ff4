import { HttpServerRequest } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"
import { parseCredentialHeaders } from "../../domain/credentials/presented.ts"
import { AppConfig, minAdminTokenLength } from "../../services/AppConfig.ts"
import { CryptoPrimitives } from "../../services/CryptoPrimitives.ts"
import { CredentialValidator } from "../credentials/CredentialValidator.ts"
import { AdminAuth, WebhookAuth } from "../../domain/api/auth.ts"
import { Forbidden, ServiceUnavailable, Unauthorized } from "../../domain/api/errors.ts"
import { asUnavailable } from "./outages.ts"

/**
 * The admin token's check. A configured token shorter than the minimum never
 * matches (start-up refuses one, but an empty token must never let an empty
 * `Authorization` in, however the settings were assembled).
 */
const adminCheck = Effect.gen(function*() {
  const config = yield* AppConfig
  const { timingSafeEqual } = yield* CryptoPrimitives
  const adminToken = Redacted.value(config.adminToken)
  const usable = adminToken.length >= minAdminTokenLength
  return (token: Redacted.Redacted<string>) => usable && timingSafeEqual(Redacted.value(token), adminToken)
})

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.map(adminCheck, (isAdmin) =>
    AdminAuth.of({
      bearer: (token) => isAdmin(token) ? Effect.succeed({ kind: "admin" as const }) : Effect.fail(Unauthorized.of())
    }))
)

/** `/stores/{storeId}/…` of the request being served. */
const pathStoreId = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const match = /^\/stores\/([^/?#]+)/.exec(request.url)
  return match ? decodeURIComponent(match[1]!) : undefined
})

export const WebhookAuthLive = Layer.effect(
  WebhookAuth,
  Effect.gen(function*() {
    const isAdmin = yield* adminCheck
    const validator = yield* CredentialValidator
    return WebhookAuth.of({
      bearer: (token) =>
        Effect.gen(function*() {
          if (isAdmin(token)) return { kind: "admin" as const }
          const parsed = parseCredentialHeaders(`Bearer ${Redacted.value(token)}`, undefined)
          if (parsed._tag !== "Presented") return yield* Effect.fail(Unauthorized.of())
          const verdict = yield* validator.validate(parsed.presented).pipe(
            Effect.catchTag("ComparisonsOverloaded", () =>
              Effect.fail(ServiceUnavailable.of("too many credential checks in progress; try again shortly"))),
            Effect.catchTag("PersistenceError", (error) => Effect.fail(asUnavailable(error)))
          )
          if (verdict._tag !== "Valid") return yield* Effect.fail(Unauthorized.of())
          const storeId = yield* pathStoreId
          if (verdict.credential.storeId !== storeId || !verdict.credential.scopes.includes("webhooks:manage")) {
            return yield* Effect.fail(Forbidden.of("this credential may not manage this store's webhooks"))
          }
          return { kind: "credential" as const, credentialId: verdict.credential.credentialId, storeId }
        })
    })
  })
)
