import { Effect } from "effect"
import { ConnectorError } from "../../ConnectorAdapter.ts"
import { bodyText, oauthErrorText, rejected } from "../../marketplace/errors.ts"
import type { MarketplaceResponse } from "../../marketplace/http.ts"
import { isRecord } from "../../marketplace/json.ts"

const errorObject = (response: MarketplaceResponse) =>
  isRecord(response.body) && isRecord(response.body.error) ? response.body.error : undefined

/**
 * Google's message: `{"error": {"code", "message", "status"}}` from the APIs,
 * `{"error": "invalid_grant", "error_description"}` from the token endpoint.
 */
export const describeGoogleError = (response: MarketplaceResponse): string => {
  const structured = errorObject(response)
  if (structured !== undefined) {
    const parts = [structured.status, structured.message].filter((p): p is string => typeof p === "string" && p !== "")
    if (parts.length > 0) return parts.join(": ")
  }
  return oauthErrorText(response.body) ?? bodyText(response, 300)
}

/** Reasons in the legacy `errors[].reason` and in `google.rpc.ErrorInfo` details. */
const errorReasons = (response: MarketplaceResponse): Array<string> => {
  const error = errorObject(response)
  if (error === undefined) return []
  const lists = [error.errors, error.details].filter(Array.isArray) as Array<Array<unknown>>
  return lists.flat().map((item) => (isRecord(item) ? item.reason : undefined)).filter((r): r is string =>
    typeof r === "string"
  )
}

const quotaPattern = /quota\/(request_rate_too_high|daily_limit_exceeded)|RATE_LIMIT_EXCEEDED|rateLimitExceeded/

/**
 * Quota errors: 429 is handled by `marketplaceCall` itself; Google also names
 * them with `RESOURCE_EXHAUSTED` and the `quota/request_rate_too_high`,
 * `quota/daily_limit_exceeded` reasons, whatever the status. A daily limit is
 * retried a few times here, then goes back on the durable retry table.
 */
export const isQuotaError = (response: MarketplaceResponse): boolean => {
  if (response.status < 400 || response.status >= 500) return false
  const error = errorObject(response)
  if (error?.status === "RESOURCE_EXHAUSTED") return true
  if (typeof error?.message === "string" && quotaPattern.test(error.message)) return true
  return errorReasons(response).some((reason) => quotaPattern.test(reason))
}

/** 2xx passes; 401/403 are the account's setup (key, permissions); other 4xx carry Google's message. */
export const expectOk = (operation: string, response: MarketplaceResponse): Effect.Effect<MarketplaceResponse, ConnectorError> => {
  if (response.status >= 200 && response.status < 300) return Effect.succeed(response)
  const message = describeGoogleError(response)
  if (response.status === 401 || response.status === 403) {
    return Effect.fail(
      new ConnectorError({ kind: "Misconfigured", message: `${operation}: HTTP ${response.status}: ${message}` })
    )
  }
  return Effect.fail(rejected(operation, response, message))
}

export const misconfigured = (message: string) => new ConnectorError({ kind: "Misconfigured", message })
