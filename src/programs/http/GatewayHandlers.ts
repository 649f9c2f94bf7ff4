import { HttpApiBuilder, HttpMiddleware, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { HttpFrontDoor } from "../../services/HttpFrontDoor.ts"
import { CredentialValidator } from "../credentials/CredentialValidator.ts"
import { issueAccessToken } from "../credentials/issueAccessToken.ts"
import { Api } from "../../domain/api/Api.ts"
import { decide, invalidAnswer, notWellFormedAnswer, overloadedAnswer,
  unavailableAnswer, toResponse, validAnswer } from "./gatewayAnswers.ts"

const tokenHeaders = { "cache-control": "no-store", pragma: "no-cache" }
const header = (value: string | ReadonlyArray<string> | undefined) => (typeof value === "string" ? value : undefined)

export const GatewayHandlers = HttpApiBuilder.group(Api, "gateway", (handlers) =>
  Effect.gen(function*() {
    const validator = yield* CredentialValidator

    // The hot path: no credential, a malformed one, or a cached one is answered by the HTTP
    // server's front door before any fiber exists; the rest (a cold credential) comes to the
    // handler below, which decides the same way first. Neither writes a request log line:
    // every gateway request comes here, and a line each would cost more than the validation.
    const door = yield* HttpFrontDoor
    yield* door.route("GET", "/credentials/validate", (request) => {
      const decision = decide(validator, request.headers)
      return decision._tag === "Answer" ? decision.answer : undefined
    })

    return handlers
      .handle("validate", ({ request }) =>
        Effect.suspend(() => {
          const decision = decide(validator, request.headers)
          if (decision._tag === "Answer") return Effect.succeed(toResponse(decision.answer))
          return validator.validate(decision.presented).pipe(
            Effect.map((verdict) => {
              switch (verdict._tag) {
                case "Malformed":
                  return toResponse(notWellFormedAnswer)
                case "Invalid":
                  return toResponse(invalidAnswer)
                case "Valid":
                  return toResponse(validAnswer(verdict.credential))
              }
            }),
            Effect.catchTag("ComparisonsOverloaded", (overloaded) =>
              Effect.succeed(toResponse(overloadedAnswer(overloaded.retryAfterSeconds)))),
            // The database unreachable: the gateway is told to retry, never that a credential is invalid.
            Effect.catchTag("PersistenceError", () => Effect.succeed(toResponse(unavailableAnswer)))
          )
        }).pipe(HttpMiddleware.withLoggerDisabled))
      .handle("token", ({ payload, request }) =>
        issueAccessToken(header(request.headers["authorization"]), payload).pipe(
          Effect.map((token) => HttpServerResponse.unsafeJson(token, { headers: tokenHeaders })),
          Effect.catchTag("TokenFailure", (failure) =>
            Effect.succeed(HttpServerResponse.unsafeJson(
              { error: failure.error, error_description: failure.description },
              {
                status: failure.error === "invalid_client" ? 401 : 400,
                headers: {
                  ...tokenHeaders,
                  ...(failure.basicChallenge ? { "www-authenticate": "Basic realm=\"integration-service\"" } : {})
                }
              }
            ))),
          Effect.catchTag("ComparisonsOverloaded", (overloaded) =>
            Effect.succeed(HttpServerResponse.unsafeJson(
              { error: "temporarily_unavailable", error_description: "too many client authentications in progress; retry later" },
              { status: 503, headers: { ...tokenHeaders, "retry-after": String(overloaded.retryAfterSeconds) } }
            ))),
          Effect.catchTag("PersistenceError", () =>
            Effect.succeed(HttpServerResponse.unsafeJson(
              { error: "temporarily_unavailable", error_description: "the service cannot reach its database; retry later" },
              { status: 503, headers: { ...tokenHeaders, "retry-after": "1" } }
            )))
        ))
  }))
