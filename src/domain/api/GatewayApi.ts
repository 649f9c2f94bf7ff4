import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { ValidCredential } from "../credentials/models.ts"

export class InvalidCredential extends Schema.Class<InvalidCredential>("InvalidCredential")(
  { valid: Schema.Literal(false) },
  HttpApiSchema.annotations({ status: 401, description: "unknown, wrong secret, revoked or expired" })
) {}

export class UnreadableCredential extends Schema.Class<UnreadableCredential>("UnreadableCredential")(
  { valid: Schema.Literal(false), error: Schema.Literal("invalid_request"), message: Schema.String },
  HttpApiSchema.annotations({ status: 400, description: "no credential, or one that is not of our formats" })
) {}

export class CredentialCheckUnavailable extends Schema.Class<CredentialCheckUnavailable>("CredentialCheckUnavailable")(
  { valid: Schema.Literal(false), error: Schema.Literal("temporarily_unavailable"), message: Schema.String },
  HttpApiSchema.annotations({
    status: 503,
    description: "too many credential checks waiting for bcrypt: retry after `Retry-After` seconds (the credential was not judged)"
  })
) {}

/**
 * RFC 6749 §4.4.2: the form of a client-credentials token request. Unlike the
 * API's JSON bodies, unknown parameters are ignored, as §3.2 requires of a
 * token endpoint (client libraries send e.g. `resource` or `audience`).
 */
export const TokenRequest = Schema.Struct(
  {
    grant_type: Schema.optional(Schema.String),
    scope: Schema.optional(Schema.String),
    client_id: Schema.optional(Schema.String),
    client_secret: Schema.optional(Schema.String)
  },
  // Each parameter at most once (§3.2): a repeated one arrives as a list and is refused.
  Schema.Record({ key: Schema.String, value: Schema.String })
).pipe(
  HttpApiSchema.withEncoding({ kind: "UrlParams" }),
  Schema.annotations({ parseOptions: { errors: "all" } })
)

export const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.Literal("Bearer"),
  expires_in: Schema.Int,
  scope: Schema.String
})

/** RFC 6749 §5.2 */
export class TokenError extends Schema.Class<TokenError>("TokenError")(
  {
    error: Schema.Literal("invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"),
    error_description: Schema.String
  },
  HttpApiSchema.annotations({ status: 400, description: "invalid_client is answered with 401" })
) {}

export class TokenUnavailable extends Schema.Class<TokenUnavailable>("TokenUnavailable")(
  { error: Schema.Literal("temporarily_unavailable"), error_description: Schema.String },
  HttpApiSchema.annotations({ status: 503, description: "too many client authentications waiting: retry after `Retry-After` seconds" })
) {}

/** What the API gateway and external OAuth clients call: authorized by the credential itself. */
export class GatewayApi extends HttpApiGroup.make("gateway")
  .add(
    HttpApiEndpoint.get("validate", "/credentials/validate")
      .addSuccess(ValidCredential)
      .addError(InvalidCredential)
      .addError(UnreadableCredential)
      .addError(CredentialCheckUnavailable)
      .annotate(
        OpenApi.Description,
        "Send the consumer's credential as `Authorization: Bearer <api key or access token>`, " +
          "`X-API-Key: <api key>` or `Authorization: Basic base64(client_id:client_secret)`. " +
          "Valid answers carry `Cache-Control: private, max-age=60`."
      )
  )
  .add(
    HttpApiEndpoint.post("token", "/oauth/token")
      .setPayload(TokenRequest)
      .addSuccess(TokenResponse)
      .addError(TokenError)
      .addError(TokenUnavailable)
      .annotate(OpenApi.Summary, "OAuth 2.0 client credentials grant (client_secret_basic or client_secret_post)")
  )
{}
