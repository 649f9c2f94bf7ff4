import type { HttpApp } from "@effect/platform"
import { HttpApiBuilder, HttpApiError, HttpServerError, HttpServerResponse } from "@effect/platform"
import { Cause, Effect } from "effect"

const describe = (issue: { readonly path: ReadonlyArray<PropertyKey>; readonly message: string }) =>
  issue.path.length === 0 ? issue.message : `${issue.path.map(String).join(".")}: ${issue.message}`

const decodeFailure = (error: HttpApiError.HttpApiDecodeError) =>
  HttpServerResponse.unsafeJson({
    error: "invalid_request",
    message: error.issues.map(describe).join("; ") || "the request is invalid",
    fields: error.issues.map((issue) => issue.path.map(String).join("."))
  }, { status: 400 })

/**
 * Requests that don't decode get the API's `{"error", "message"}` body (the
 * framework's own describes the schema, not the field), with the offending
 * fields named in the message and listed in `fields`. An API-level middleware
 * sees the decode failure before the framework turns it into its response.
 */
export const UniformDecodeErrors = HttpApiBuilder.middleware((app: HttpApp.Default) =>
  Effect.catchAllCause(app, (cause) => {
    const error = Cause.squash(cause)
    if (error instanceof HttpApiError.HttpApiDecodeError) return Effect.succeed(decodeFailure(error))
    // A body that is not JSON (or not form data) at all never reaches the schema.
    if (error instanceof HttpServerError.RequestError && error.reason === "Decode") {
      return Effect.succeed(HttpServerResponse.unsafeJson({
        error: "invalid_request",
        message: "the request body could not be read: send JSON (or a form where documented)",
        fields: []
      }, { status: 400 }))
    }
    return Effect.failCause(cause)
  })
)
