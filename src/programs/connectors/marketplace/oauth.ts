import { Effect, Schema } from "effect"
import type { HttpOut } from "../../../services/HttpOut.ts"
import { type ConnectorContext, ConnectorError } from "../ConnectorAdapter.ts"
import { unexpected } from "./errors.ts"
import { marketplaceCall, type MarketplaceRequest, type MarketplaceResponse } from "./http.ts"

const TokenResponse = (defaultExpiresIn: number | undefined) =>
  Schema.Struct({
    access_token: Schema.String.pipe(Schema.minLength(1)),
    expires_in: defaultExpiresIn === undefined
      ? Schema.Number
      : Schema.optionalWith(Schema.Number, { default: () => defaultExpiresIn })
  })

/** The Vault keys a refresh-token grant needs: the app's client id and secret, and the seller's refresh token. */
export const refreshTokenGrantKeys = ["api-key", "api-secret", "refresh-token"] as const

export interface AccessToken {
  readonly accessToken: string
  readonly expiresInSeconds: number
}

/**
 * An OAuth 2.0 token request (refresh-token or JWT-bearer grant). A 4xx from
 * the token endpoint (a wrong client, a revoked refresh token, a bad
 * signature, a scope not granted) is a configuration problem: retrying cannot
 * help. The answer must carry `access_token` (and `expires_in`, unless the
 * marketplace documents a default).
 */
export const requestToken = <S>(
  context: ConnectorContext<S>,
  request: MarketplaceRequest,
  options: {
    readonly describeError: (response: MarketplaceResponse) => string
    readonly isThrottled?: (response: MarketplaceResponse) => boolean
    readonly defaultExpiresIn?: number
  }
): Effect.Effect<AccessToken, ConnectorError, HttpOut> =>
  Effect.gen(function*() {
    const response = yield* marketplaceCall(context, request, {
      describeError: options.describeError,
      ...(options.isThrottled !== undefined ? { isThrottled: options.isThrottled } : {})
    })
    if (response.status < 200 || response.status >= 300) {
      return yield* Effect.fail(
        new ConnectorError({
          kind: response.status >= 400 && response.status < 500 ? "Misconfigured" : "Unavailable",
          message: `${request.operation}: HTTP ${response.status}: ${options.describeError(response)}`
        })
      )
    }
    const token = yield* Schema.decodeUnknown(TokenResponse(options.defaultExpiresIn))(response.body).pipe(
      Effect.mapError(() => unexpected(request.operation, "the answer carries no access_token and expires_in"))
    )
    return { accessToken: token.access_token, expiresInSeconds: token.expires_in }
  })
