import type { HttpApp } from "@effect/platform"
import { HttpServerResponse } from "@effect/platform"
import { Effect, Option, Schema } from "effect"

const DecodeErrorBody = Schema.parseJson(Schema.Struct({
  _tag: Schema.Literal("HttpApiDecodeError"),
  issues: Schema.Array(Schema.Struct({
    path: Schema.Array(Schema.Union(Schema.String, Schema.Number, Schema.Symbol)),
    message: Schema.String
  }))
}))
const decodeDecodeError = Schema.decodeUnknownOption(DecodeErrorBody)

const bodyText = (response: HttpServerResponse.HttpServerResponse): Option.Option<string> =>
  response.body._tag === "Uint8Array" ? Option.some(new TextDecoder().decode(response.body.body)) : Option.none()

const describe = (issue: { readonly path: ReadonlyArray<PropertyKey>; readonly message: string }) =>
  issue.path.length === 0 ? issue.message : `${issue.path.map(String).join(".")}: ${issue.message}`

/**
 * The framework answers requests that don't decode, and defects, in its own
 * shapes; this gives them the API's `{"error", "message"}` body, with the
 * offending field named first in the message.
 */
export const uniformErrorBodies = (app: HttpApp.Default): HttpApp.Default =>
  Effect.map(app, (response) => {
    if (response.status === 400) {
      return Option.match(Option.flatMap(bodyText(response), decodeDecodeError), {
        onNone: () => response,
        onSome: (decoded) =>
          HttpServerResponse.unsafeJson({
            error: "invalid_request",
            message: decoded.issues.map(describe).join("; ") || "the request is invalid",
            fields: decoded.issues.map((issue) => issue.path.map(String).join("."))
          }, { status: 400 })
      })
    }
    if (response.status === 500 && Option.getOrElse(bodyText(response), () => "") === "") {
      return HttpServerResponse.unsafeJson({ error: "internal_error", message: "internal error" }, { status: 500 })
    }
    return response
  })
