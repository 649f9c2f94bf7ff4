import { HttpClientError, type HttpClientRequest } from "@effect/platform"
import { Cause, Console, Data, Effect, Option, ParseResult, Schema } from "effect"

/** A failure the user can act on: printed as one line on stderr, exit status 1. */
export class CliError extends Data.TaggedError("CliError")<{ readonly message: string }> {}

/** An error answer of the API (any status ≥ 400), with what its `{error, message}` body said. */
export class ApiProblem extends Data.Class<{
  readonly status: number
  readonly method: string
  readonly url: string
  readonly code: string | undefined
  readonly detail: string | undefined
}> {}

const ErrorBody = Schema.parseJson(Schema.Struct({ error: Schema.String, message: Schema.optional(Schema.String) }))

export const problemOf = (
  response: { readonly status: number; readonly request: HttpClientRequest.HttpClientRequest },
  text: string
) => {
  const body = Schema.decodeUnknownOption(ErrorBody)(text)
  return new ApiProblem({
    status: response.status,
    method: response.request.method,
    url: response.request.url,
    code: Option.getOrUndefined(Option.map(body, (b) => b.error)),
    detail: Option.getOrUndefined(Option.flatMap(body, (b) => Option.fromNullable(b.message)))
  })
}

/** Node's network error code (`ECONNREFUSED`, …), else the innermost message, of a cause chain. */
const networkReason = (error: unknown): string | undefined => {
  let message: string | undefined
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const { code, message: text } = current as { code?: unknown; message?: unknown }
    if (typeof code === "string") return code
    if (typeof text === "string" && text.length > 0) message = text
    current = (current as { cause?: unknown }).cause
  }
  return message
}

const urlPart = (requestUrl: string, part: "pathname" | "origin") => {
  try {
    return new URL(requestUrl)[part]
  } catch {
    return requestUrl
  }
}

const describeProblem = (problem: ApiProblem): string => {
  const where = `${problem.method} ${urlPart(problem.url, "pathname")}`
  const what = problem.code === undefined
    ? `HTTP ${problem.status} from ${where}`
    : `${problem.code} (HTTP ${problem.status}): ${problem.detail ?? "no message"}`
  if (problem.status === 401) {
    return `${what} — check --token / ADMIN_TOKEN`
  }
  if (problem.status === 404 && problem.code === undefined) {
    return `${what} — is --url an integration-service with this route?`
  }
  return what
}

/** Why a request got no answer, in words. */
export const describeUnreachable = (error: HttpClientError.RequestError): string => {
  const origin = urlPart(error.request.url, "origin")
  if (error.reason === "InvalidUrl") return `invalid request URL ${origin}`
  if (error.reason === "Encode") return "the request could not be encoded"
  if (error.description !== undefined) return `${origin}: ${error.description}`
  const code = networkReason(error.cause)
  const reason = code === "ECONNREFUSED"
    ? "connection refused"
    : code === "ENOTFOUND" || code === "EAI_AGAIN"
    ? "host not found"
    : code ?? "the connection failed"
  return `cannot reach integration-service at ${origin}: ${reason} (is it running? set --url or INTEGRATION_SERVICE_URL)`
}

/** One line for anything a command can fail with; never the token, never a stack. */
export const describeFailure = (error: unknown): string => {
  if (error instanceof CliError) return error.message
  if (HttpClientError.isHttpClientError(error)) {
    if (error._tag === "RequestError") return describeUnreachable(error)
    if (error.cause instanceof ApiProblem) return describeProblem(error.cause)
    return `unexpected answer (HTTP ${error.response.status}) from ${error.request.method} ${
      urlPart(error.request.url, "pathname")
    }`
  }
  if (ParseResult.isParseError(error)) {
    return "the server's answer did not have the expected shape (is --url an integration-service of this version?)"
  }
  if (typeof error === "object" && error !== null) {
    const { error: code, message } = error as { error?: unknown; message?: unknown }
    if (typeof code === "string" && typeof message === "string") return `${code}: ${message}`
    if (typeof message === "string" && message.length > 0) return message
  }
  return String(error)
}

/** Exit status 1 once the command is done (its output is still printed). */
export const setExitFailure = Effect.sync(() => {
  process.exitCode = 1
})

/**
 * Runs a command body: a failure (or defect) prints `error: <one line>` on
 * stderr and sets exit status 1; Ctrl-C still interrupts.
 */
export const runCommand = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<void, never, R> =>
  Effect.catchAllCause(Effect.asVoid(self), (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
    const failure = Cause.failureOption(cause)
    const line = Option.isSome(failure)
      ? describeFailure(failure.value)
      : `internal error: ${describeFailure(Cause.squash(cause)).split("\n")[0]}`
    return Console.error(`error: ${line}`).pipe(Effect.zipRight(setExitFailure))
  })
