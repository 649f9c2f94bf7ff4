import { Effect } from "effect"
import type { HttpOut } from "../../../../services/HttpOut.ts"
import type { ConnectorError } from "../../ConnectorAdapter.ts"
import { credentialValue } from "../../marketplace/credentials.ts"
import { expectStatus, is2xx } from "../../marketplace/errors.ts"
import { marketplaceCall, type MarketplaceRequest, type MarketplaceResponse, marketplaceUrl } from "../../marketplace/http.ts"
import { requestToken } from "../../marketplace/oauth.ts"
import { describeAmazonError, isTokenRejection } from "./errors.ts"
import { type AmazonContext, rates } from "./settings.ts"

/** Login with Amazon: the refresh-token grant (client id and secret in the form). */
const fetchAccessToken = (context: AmazonContext) =>
  Effect.gen(function*() {
    const clientId = yield* credentialValue(context, "api-key")
    const clientSecret = yield* credentialValue(context, "api-secret")
    const refreshToken = yield* credentialValue(context, "refresh-token")
    return yield* requestToken(context, {
      method: "POST",
      url: context.settings.tokenUrl,
      form: { grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId, client_secret: clientSecret },
      operation: "lwa.token",
      ...rates.token
    }, { describeError: describeAmazonError })
  })

/**
 * One SP-API call with the config's (cached) LWA access token, sent as
 * `x-amz-access-token` (no SigV4 signing since 2023-10); a 401 or SP-API's
 * 403 for an expired token gets one fresh token.
 */
export const spApi = (
  context: AmazonContext,
  request: Omit<MarketplaceRequest, "url"> & { readonly path: string; readonly query?: Readonly<Record<string, string>> }
): Effect.Effect<MarketplaceResponse, ConnectorError, HttpOut> => {
  const { path, query, ...rest } = request
  return marketplaceCall(context, { ...rest, url: marketplaceUrl(context.settings.baseUrl, path, query) }, {
    auth: (token) => ({ "x-amz-access-token": token }),
    token: context.tokens.get(fetchAccessToken(context)),
    isTokenRejected: isTokenRejection,
    describeError: describeAmazonError
  })
}

/** 2xx passes; any other answer (4xx; a 401 that survived a fresh token) is a rejection with Amazon's message. */
export const expectSuccess = (operation: string, response: MarketplaceResponse) =>
  expectStatus(operation, response, is2xx, describeAmazonError)

export const segment = encodeURIComponent
