import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Context, Schema } from "effect"
import { Forbidden, ServiceUnavailable, Unauthorized } from "./errors.ts"

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
  failure: Schema.Union(Unauthorized, Forbidden, ServiceUnavailable),
  provides: CurrentCaller,
  security: { bearer: HttpApiSecurity.bearer }
}) {}
