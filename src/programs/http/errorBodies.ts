import type { HttpApp } from "@effect/platform"
import {
  HttpApiBuilder,
  HttpApiError,
  HttpIncomingMessage,
  HttpMethod,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Cause, Effect, Option } from "effect"
import { AppConfig } from "../../services/AppConfig.ts"
import { HttpFrontDoor } from "../../services/HttpFrontDoor.ts"
import { bodyLimitOf, defaultMaxBodyBytes, tooLargeAnswer, tooLargeMessage } from "./bodyLimits.ts"
import { clipSchemaMessage, clipValue } from "./clip.ts"
import { type JsonProblem, jsonProblems } from "./jsonHygiene.ts"

/** A 400 names at most this many fields (a 64 KiB array of wrong items would otherwise name thousands). */
const maxFieldsReported = 50

interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

const fieldOf = (issue: Issue) => issue.path.map((segment) => clipValue(String(segment))).join(".")

/**
 * The failing fields, each once (a union's members each fail: their expected
 * values are put together), values quoted at most ~100 characters.
 */
const describeIssues = (issues: ReadonlyArray<Issue>) => {
  const byField = new Map<string, Array<string>>()
  for (const issue of issues) {
    const field = fieldOf(issue)
    const messages = byField.get(field) ?? []
    messages.push(issue.message)
    byField.set(field, messages)
  }
  const described = [...byField].map(([field, messages]) => {
    const expected = messages.map((m) => /^Expected (.*), actual (.*)$/s.exec(m))
    const sameActual = expected.every((m) => m !== null && m[2] === expected[0]![2])
    const message = messages.length > 1 && sameActual
      ? `Expected ${expected.map((m) => m![1]).join(" | ")}, actual ${expected[0]![2]}`
      : [...new Set(messages)].join("; ")
    const clipped = clipSchemaMessage(message)
    return { field, text: field === "" ? clipped : `${field}: ${clipped}` }
  })
  const shown = described.slice(0, maxFieldsReported)
  const more = described.length - shown.length
  return {
    message: (shown.map((d) => d.text).join("; ") || "the request is invalid") +
      (more > 0 ? `; and ${more} more field(s)` : ""),
    fields: shown.map((d) => d.field)
  }
}

const invalid = (issues: ReadonlyArray<Issue>) => {
  const { fields, message } = describeIssues(issues)
  return HttpServerResponse.unsafeJson({ error: "invalid_request", message, fields }, { status: 400 })
}

const tooLarge = (limit: number) =>
  HttpServerResponse.unsafeJson(
    { error: "payload_too_large", message: tooLargeMessage(limit) },
    { status: 413, headers: { connection: "close" } }
  )

const unreadable = HttpServerResponse.unsafeJson({
  error: "invalid_request",
  message: "the request body could not be read: send JSON (or a form where documented)",
  fields: []
}, { status: 400 })

const isJson = (request: HttpServerRequest.HttpServerRequest) => {
  const type = request.headers["content-type"]
  // The API reads a body without a Content-Type as JSON.
  return type === undefined || type.toLowerCase().includes("application/json")
}

/** NUL, lone surrogates or nesting no column or serializer takes: a 400 before the route sees the body. */
const hostileJson = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.map(Effect.option(request.text), (text): ReadonlyArray<JsonProblem> => {
    if (Option.isNone(text) || text.value === "") return []
    try {
      return jsonProblems(JSON.parse(text.value))
    } catch {
      // Not JSON at all: the route's own decoding says so.
      return []
    }
  })

/**
 * Every request with a body, and every request that does not decode:
 *
 * - bodies are bounded: the HTTP server's front door refuses one over the
 *   route's limit (`bodyLimits.ts`) with a 413 before reading it; the same
 *   limit also holds where the body is read, whatever server is in front;
 * - JSON bodies holding NUL, lone surrogates or deep nesting are a 400;
 * - a request that does not decode gets the API's `{"error", "message"}` body
 *   (the framework's own describes the schema, not the field), naming every
 *   failing field in the message and in `fields`, never quoting more than
 *   ~100 characters of a value. An API-level middleware sees the decode
 *   failure before the framework turns it into its response.
 */
export const UniformDecodeErrors = HttpApiBuilder.middleware(Effect.gen(function*() {
  const config = yield* AppConfig
  const door = yield* HttpFrontDoor
  const limitOf = bodyLimitOf(config.maxBodyBytes ?? defaultMaxBodyBytes)
  yield* door.limitBodies(limitOf, tooLargeAnswer)

  return (app: HttpApp.Default) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const limit = limitOf(request)
      const withBody = HttpMethod.hasBody(request.method) && isJson(request)
      const checked = withBody
        ? Effect.flatMap(hostileJson(request), (problems) => problems.length > 0 ? Effect.succeed(invalid(problems)) : app)
        : app
      return checked.pipe(
        HttpIncomingMessage.withMaxBodySize(Option.some(limit)),
        Effect.catchAllCause((cause) => {
          const error = Cause.squash(cause)
          if (error instanceof HttpApiError.HttpApiDecodeError) return Effect.succeed(invalid(error.issues))
          if (error instanceof HttpServerError.RequestError && error.reason === "Decode") {
            const overLimit = error.cause instanceof Error && error.cause.message === "maxBytes exceeded"
            return Effect.succeed(overLimit ? tooLarge(limit) : unreadable)
          }
          return Effect.failCause(cause)
        })
      )
    })
}))
