import type { HttpApp } from "@effect/platform"
import { HttpApiBuilder, HttpApiError, HttpServerResponse } from "@effect/platform"
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
    return error instanceof HttpApiError.HttpApiDecodeError ? Effect.succeed(decodeFailure(error)) : Effect.failCause(cause)
  })
)
