import { HttpApiMiddleware, HttpApiSecurity, HttpServerRequest } from "@effect/platform"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import { constantTimeEqual } from "../../domain/constantTime.ts"
import { parseCredentialHeaders } from "../../domain/credentials/presented.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { CredentialValidator } from "../credentials/CredentialValidator.ts"
import { Forbidden, Unauthorized } from "./ApiErrors.ts"

/** Who is calling an admin route. */
export type Caller =
  | { readonly kind: "admin" }
  | { readonly kind: "credential"; readonly credentialId: string; readonly storeId: string }

export class CurrentCaller extends Context.Tag("integration-service/CurrentCaller")<CurrentCaller, Caller>() {}

/** `Authorization: Bearer <admin token>`: every admin route. */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: Unauthorized,
  provides: CurrentCaller,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/**
 * The webhook routes: the admin token, or an API credential (API key or access
 * token) of the store named in the path that holds `webhooks:manage`.
 */
export class WebhookAuth extends HttpApiMiddleware.Tag<WebhookAuth>()("WebhookAuth", {
  failure: Schema.Union(Unauthorized, Forbidden),
  provides: CurrentCaller,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const isAdmin = (token: Redacted.Redacted<string>, adminToken: Redacted.Redacted<string>) =>
  constantTimeEqual(Redacted.value(token), Redacted.value(adminToken))

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.map(AppConfig, (config) =>
    AdminAuth.of({
      bearer: (token) =>
        isAdmin(token, config.adminToken) ? Effect.succeed({ kind: "admin" as const }) : Effect.fail(Unauthorized.of())
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
    const config = yield* AppConfig
    const validator = yield* CredentialValidator
    return WebhookAuth.of({
      bearer: (token) =>
        Effect.gen(function*() {
          if (isAdmin(token, config.adminToken)) return { kind: "admin" as const }
          const parsed = parseCredentialHeaders(`Bearer ${Redacted.value(token)}`, undefined)
          if (parsed._tag !== "Presented") return yield* Effect.fail(Unauthorized.of())
          const verdict = yield* validator.validate(parsed.presented).pipe(Effect.orDie)
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
