import { HttpServerResponse } from "@effect/platform"
import { parseCredentialHeaders, type Presented } from "../../domain/credentials/presented.ts"
import type { FrontDoorAnswer, FrontDoorRequest } from "../../services/HttpFrontDoor.ts"
import type { Verified } from "../credentials/CredentialValidator.ts"

/**
 * `GET /credentials/validate`'s answers, serialized once: the HTTP front door
 * writes these bytes as they are, and the HTTP app sends the very same ones
 * (`toResponse`), so a request answered by either gets the same status,
 * headers and body.
 */

const encoder = new TextEncoder()

const answer = (status: number, cacheControl: string, body: unknown, extra: Record<string, string> = {}): FrontDoorAnswer => {
  const bytes = encoder.encode(JSON.stringify(body))
  return {
    status,
    // The order the HTTP app writes them in.
    headers: { "cache-control": cacheControl, ...extra, "content-type": "application/json", "content-length": String(bytes.length) },
    body: bytes
  }
}

const refusal = (message: string) => answer(400, "no-store", { valid: false, error: "invalid_request", message })

export const missingAnswer = refusal("no credential: send Authorization (Bearer or Basic) or X-API-Key")
export const notWellFormedAnswer = refusal("the credential is not well-formed (checksum or format)")
export const invalidAnswer = answer(401, "no-store", { valid: false })

// The header parser's reasons are a handful of fixed sentences.
const malformedAnswers = new Map<string, FrontDoorAnswer>()
export const malformedAnswer = (reason: string) => {
  let cached = malformedAnswers.get(reason)
  if (cached === undefined) {
    cached = refusal(reason)
    malformedAnswers.set(reason, cached)
  }
  return cached
}

// A cached credential is the same object on every hit: its answer is serialized once.
const validAnswers = new WeakMap<Verified, FrontDoorAnswer>()
export const validAnswer = (credential: Verified) => {
  let cached = validAnswers.get(credential)
  if (cached === undefined) {
    cached = answer(200, "private, max-age=60", {
      valid: true,
      storeId: credential.storeId,
      scopes: credential.scopes,
      credentialId: credential.credentialId,
      type: credential.type
    })
    validAnswers.set(credential, cached)
  }
  return cached
}

export const overloadedAnswer = (retryAfterSeconds: number) =>
  answer(503, "no-store", {
    valid: false,
    error: "temporarily_unavailable",
    message: "too many credential checks in progress; retry after the Retry-After seconds"
  }, { "retry-after": String(retryAfterSeconds) })

/** Our database unreachable: the gateway is to retry, not to refuse the credential. */
export const unavailableAnswer = answer(503, "no-store", {
  valid: false,
  error: "temporarily_unavailable",
  message: "the service cannot reach its database; retry after the Retry-After seconds"
}, { "retry-after": "1" })

const responses = new WeakMap<FrontDoorAnswer, HttpServerResponse.HttpServerResponse>()
/** The same answer as the HTTP app's response. */
export const toResponse = (answer: FrontDoorAnswer) => {
  let response = responses.get(answer)
  if (response === undefined) {
    const { "content-type": _type, "content-length": _length, ...headers } = answer.headers
    response = HttpServerResponse.uint8Array(answer.body, { status: answer.status, headers, contentType: "application/json" })
    responses.set(answer, response)
  }
  return response
}

const header = (value: string | ReadonlyArray<string> | undefined) => (typeof value === "string" ? value : undefined)

/** Either the answer (no credential, a malformed one, or a cached one) or what must be verified. */
export type Decision =
  | { readonly _tag: "Answer"; readonly answer: FrontDoorAnswer }
  | { readonly _tag: "Verify"; readonly presented: Presented }

export interface ValidatorView {
  readonly cached: (presented: Presented) => Verified | undefined
  readonly wellFormed: (presented: Presented) => boolean
}

/** Everything validate decides without I/O, synchronously: the front door's part and the handler's first step. */
export const decide = (validator: ValidatorView, headers: FrontDoorRequest["headers"]): Decision => {
  const parsed = parseCredentialHeaders(header(headers["authorization"]), header(headers["x-api-key"]))
  if (parsed._tag === "Missing") return { _tag: "Answer", answer: missingAnswer }
  if (parsed._tag === "Malformed") return { _tag: "Answer", answer: malformedAnswer(parsed.reason) }
  // The format and checksum first (a microsecond, no hashing): a malformed key is refused for
  // less than a cached one is answered for. Only verified credentials are cached, so a
  // well-formed one is all a hit can be.
  if (!validator.wellFormed(parsed.presented)) return { _tag: "Answer", answer: notWellFormedAnswer }
  const hit = validator.cached(parsed.presented)
  if (hit !== undefined) return { _tag: "Answer", answer: validAnswer(hit) }
  return { _tag: "Verify", presented: parsed.presented }
}
