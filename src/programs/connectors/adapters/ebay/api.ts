import { Effect, Encoding } from "effect"
import { ConnectorError } from "../../ConnectorAdapter.ts"
import { credentialValue } from "../../marketplace/credentials.ts"
import { bodyText, expectStatus as expectStatusOf, oauthErrorText } from "../../marketplace/errors.ts"
import { marketplaceCall, type MarketplaceRequest, type MarketplaceResponse } from "../../marketplace/http.ts"
import { isRecord, str } from "../../marketplace/json.ts"
import { requestToken } from "../../marketplace/oauth.ts"
import { type EbayContext, rates } from "./settings.ts"

/** One eBay `ErrorDetailV3`: `errorId message (longMessage)`. */
export const describeErrorDetail = (e: unknown) => {
  if (!isRecord(e)) return str(e)
  const message = str(e.message)
  const long = str(e.longMessage)
  const text = long !== "" && long !== message ? (message !== "" ? `${message} (${long})` : long) : message
  return str(e.errorId) !== "" ? `${str(e.errorId)} ${text}` : text
}

/**
 * eBay's own words: the REST `{"errors": [{errorId, message, longMessage, …}]}`,
 * the OAuth `{"error", "error_description"}`, else the start of the body.
 */
export const describeEbayError = (response: MarketplaceResponse): string => {
  const body = response.body
  if (isRecord(body) && Array.isArray(body.errors) && body.errors.length > 0) {
    return body.errors.map(describeErrorDetail).join("; ")
  }
  return oauthErrorText(body) ?? bodyText(response, 500)
}

export const invalid = (message: string) => new ConnectorError({ kind: "Invalid", message })

export interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
  readonly refreshToken: string
}

/** All three credentials, checked before any request is made (a missing one: Misconfigured). */
export const credentialsOf = (context: EbayContext) =>
  Effect.gen(function*() {
    return {
      clientId: yield* credentialValue(context, "api-key"),
      clientSecret: yield* credentialValue(context, "api-secret"),
      refreshToken: yield* credentialValue(context, "refresh-token")
    } satisfies Credentials
  })

/** The refresh-token grant, with the client id and secret as HTTP Basic credentials. */
const fetchAccessToken = (context: EbayContext, credentials: Credentials) =>
  requestToken(context, {
    method: "POST",
    url: context.settings.tokenUrl,
    headers: { authorization: `Basic ${Encoding.encodeBase64(`${credentials.clientId}:${credentials.clientSecret}`)}` },
    form: {
      grant_type: "refresh_token",
      refresh_token: credentials.refreshToken,
      scope: context.settings.scopes.join(" ")
    },
    operation: "oauth2.token",
    ...rates.token
  }, { describeError: describeEbayError })

/** A Sell API call with a (cached) user access token; a 401 gets one fresh token (marketplaceCall). */
export const sellApi = (context: EbayContext, credentials: Credentials, request: MarketplaceRequest) =>
  marketplaceCall(context, request, {
    auth: (token) => ({ authorization: `Bearer ${token}` }),
    token: context.tokens.get(fetchAccessToken(context, credentials)),
    describeError: describeEbayError
  })

export const expectStatus = (operation: string, response: MarketplaceResponse, expected: ReadonlyArray<number>) =>
  expectStatusOf(operation, response, expected, describeEbayError)

export const segment = encodeURIComponent
