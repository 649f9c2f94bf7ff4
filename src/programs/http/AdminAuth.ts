import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Context, Effect, Layer, Redacted } from "effect"
import { constantTimeEqual } from "../../domain/constantTime.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { Unauthorized } from "./ApiErrors.ts"

/** Who is calling an admin route. */
export type Caller = { readonly kind: "admin" }

export class CurrentCaller extends Context.Tag("integration-service/CurrentCaller")<CurrentCaller, Caller>() {}

/** `Authorization: Bearer <admin token>` on every admin route. */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: Unauthorized,
  provides: CurrentCaller,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.map(AppConfig, (config) =>
    AdminAuth.of({
      bearer: (token) =>
        constantTimeEqual(Redacted.value(token), Redacted.value(config.adminToken))
          ? Effect.succeed({ kind: "admin" as const })
          : Effect.fail(Unauthorized.of())
    }))
)
