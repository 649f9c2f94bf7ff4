import { bodyText, oauthErrorText } from "../../marketplace/errors.ts"
import type { MarketplaceResponse } from "../../marketplace/http.ts"
import { isRecord, str } from "../../marketplace/json.ts"

/**
 * The marketplace's own words: SP-API `{"errors": [{code, message, details}]}`,
 * LWA `{"error", "error_description"}`, else the start of the body.
 */
export const describeAmazonError = (response: MarketplaceResponse): string => {
  const body = response.body
  if (isRecord(body) && Array.isArray(body.errors) && body.errors.length > 0) {
    return body.errors
      .map((e) => {
        if (!isRecord(e)) return str(e)
        const head = [str(e.code), str(e.message)].filter((s) => s !== "").join(": ")
        return str(e.details) !== "" ? `${head} (${str(e.details)})` : head
      })
      .join("; ")
  }
  return oauthErrorText(body) ?? bodyText(response, 500)
}

/**
 * SP-API answers an expired or invalid access token with a 403 (`Unauthorized`,
 * "…token…expired/invalid") as well as with a 401: both get one fresh token.
 */
export const isTokenRejection = (response: MarketplaceResponse) => {
  if (response.status !== 403 || !isRecord(response.body) || !Array.isArray(response.body.errors)) return false
  return response.body.errors.some((e) => {
    if (!isRecord(e)) return false
    const text = `${str(e.message)} ${str(e.details)}`
    return /token/i.test(text) && /(expired|invalid|malformed)/i.test(text)
  })
}
