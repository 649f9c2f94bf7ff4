import { HttpApiBuilder, HttpMiddleware, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { parseCredentialHeaders } from "../../domain/credentials/presented.ts"
import { CredentialValidator, type Verified } from "../credentials/CredentialValidator.ts"
import { issueAccessToken } from "../credentials/issueAccessToken.ts"
import { Api } from "./Api.ts"

// Prebuilt answers: the hot path allocates as little as it can.
const invalidResponse = HttpServerResponse.unsafeJson({ valid: false }, {
  status: 401,
  headers: { "cache-control": "no-store" }
})
const missingResponse = HttpServerResponse.unsafeJson({
  valid: false,
  error: "invalid_request",
  message: "no credential: send Authorization (Bearer or Basic) or X-API-Key"
}, { status: 400, headers: { "cache-control": "no-store" } })
const malformedResponse = (message: string) =>
  HttpServerResponse.unsafeJson({ valid: false, error: "invalid_request", message }, {
    status: 400,
    headers: { "cache-control": "no-store" }
  })

// A cached credential is the same object on every hit: its answer is serialized once.
const validResponses = new WeakMap<Verified, HttpServerResponse.HttpServerResponse>()
const validResponse = (credential: Verified) => {
  let response = validResponses.get(credential)
  if (response === undefined) {
    response = HttpServerResponse.unsafeJson({
      valid: true,
      storeId: credential.storeId,
      scopes: credential.scopes,
      credentialId: credential.credentialId,
      type: credential.type
    }, { headers: { "cache-control": "private, max-age=60" } })
    validResponses.set(credential, response)
  }
  return response
}

const header = (value: string | ReadonlyArray<string> | undefined) => (typeof value === "string" ? value : undefined)

export const GatewayHandlers = HttpApiBuilder.group(Api, "gateway", (handlers) =>
  Effect.gen(function*() {
    const validator = yield* CredentialValidator
    return handlers
      .handle("validate", ({ request }) =>
        Effect.gen(function*() {
          const parsed = parseCredentialHeaders(header(request.headers["authorization"]), header(request.headers["x-api-key"]))
          if (parsed._tag === "Missing") return missingResponse
          if (parsed._tag === "Malformed") return malformedResponse(parsed.reason)
          const verdict = yield* validator.validate(parsed.presented)
          switch (verdict._tag) {
            case "Malformed":
              return malformedResponse("the credential is not well-formed (checksum or format)")
            case "Invalid":
              return invalidResponse
            case "Valid":
              return validResponse(verdict.credential)
          }
          // Every gateway request comes here: a log line each would cost more than the validation.
        }).pipe(Effect.orDie, HttpMiddleware.withLoggerDisabled))
      .handle("token", ({ payload, request }) =>
        issueAccessToken(header(request.headers["authorization"]), payload).pipe(
          Effect.map((token) =>
            HttpServerResponse.unsafeJson(token, { headers: { "cache-control": "no-store", pragma: "no-cache" } })
          ),
          Effect.catchTag("TokenFailure", (failure) =>
            Effect.succeed(HttpServerResponse.unsafeJson(
              { error: failure.error, error_description: failure.description },
              {
                status: failure.error === "invalid_client" ? 401 : 400,
                headers: {
                  "cache-control": "no-store",
                  pragma: "no-cache",
                  ...(failure.basicChallenge ? { "www-authenticate": "Basic realm=\"integration-service\"" } : {})
                }
              }
            ))
          ),
          Effect.orDie
        ))
  }))
