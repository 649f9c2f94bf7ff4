import { Effect, ParseResult } from "effect"
import { ConnectorError } from "../ConnectorAdapter.ts"
import type { MarketplaceResponse } from "./http.ts"
import { clip, isRecord } from "./json.ts"

/** A 4xx answer as a failure carrying the marketplace's own message. */
export const rejected = (operation: string, response: MarketplaceResponse, message: string) =>
  new ConnectorError({ kind: "Rejected", message: `${operation}: HTTP ${response.status}: ${message}` })

/** An answer of a shape the connector does not know (retryable: marketplaces have bad moments). */
export const unexpected = (operation: string, detail: string | ParseResult.ParseError) =>
  new ConnectorError({
    kind: "Unavailable",
    message: `${operation}: unexpected response: ${
      clip(typeof detail === "string" ? detail : ParseResult.TreeFormatter.formatErrorSync(detail), 500)
    }`
  })

/** OAuth 2.0 error bodies (RFC 6749 §5.2): `error` and `error_description`. */
export const oauthErrorText = (body: unknown): string | undefined => {
  if (!isRecord(body) || typeof body.error !== "string") return undefined
  return typeof body.error_description === "string" ? `${body.error}: ${body.error_description}` : body.error
}

/** The start of the body when a marketplace gave no structured error. */
export const bodyText = (response: MarketplaceResponse, max: number) => {
  const text = response.text.trim()
  return text === "" ? `HTTP ${response.status}` : clip(text, max)
}

/** The status passes, or a rejection with the marketplace's message. */
export const expectStatus = (
  operation: string,
  response: MarketplaceResponse,
  ok: ReadonlyArray<number> | ((status: number) => boolean),
  describe: (response: MarketplaceResponse) => string
) =>
  (typeof ok === "function" ? ok(response.status) : ok.includes(response.status))
    ? Effect.succeed(response)
    : Effect.fail(rejected(operation, response, describe(response)))

export const is2xx = (status: number) => status >= 200 && status < 300
