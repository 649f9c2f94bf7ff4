import { Options } from "@effect/cli"
import {
  FetchHttpClient,
  type FileSystem,
  HttpApi,
  HttpApiClient,
  HttpClient,
  HttpClientError,
  HttpClientRequest,
  type Path
} from "@effect/platform"
import { Cause, Config, Console, Data, Duration, Effect, Option, ParseResult, Redacted, Schema } from "effect"
import { StoreId } from "../domain/EventEnvelope.ts"
import { makeVaultDev } from "../layers/VaultDev.ts"
import { ConnectorRunsApi } from "../domain/api/ConnectorRunsApi.ts"
import { ConnectorsApi } from "../domain/api/ConnectorsApi.ts"
import { CredentialsApi } from "../domain/api/CredentialsApi.ts"
import { DevApi } from "../domain/api/DevApi.ts"
import { WebhooksApi } from "../domain/api/WebhooksApi.ts"

/**
 * The ops CLI is an HTTP client of the service's admin API, so it works the
 * same against dev mode (whose database lives inside the dev server's process)
 * and against a live deployment.
 */

export const defaultUrl = "http://localhost:8080"
/** Where dev mode (`npm start`) keeps its file-backed secrets, the admin token among them. */
export const devSecretsDir = ".data/secrets"
const serviceSecretPath = "integration-service"
const requestTimeout = Duration.seconds(30)

/** A failure the user can act on: printed as one line on stderr, exit status 1. */
export class CliError extends Data.TaggedError("CliError")<{ readonly message: string }> {}

// ---------------------------------------------------------------------------------------------
// Options every client command takes

export const url = Options.text("url").pipe(
  Options.withFallbackConfig(Config.string("INTEGRATION_SERVICE_URL")),
  Options.withDefault(defaultUrl),
  Options.withDescription(
    `Base URL of integration-service's HTTP API. Default: $INTEGRATION_SERVICE_URL, else ${defaultUrl}.`
  )
)

export const token = Options.redacted("token").pipe(
  Options.withFallbackConfig(Config.redacted("ADMIN_TOKEN")),
  Options.optional,
  Options.withDescription(
    "Admin API token (sent as Authorization: Bearer). Default: $ADMIN_TOKEN, else the token dev mode stored under " +
      `${devSecretsDir} (secret ${serviceSecretPath}, key admin.token) in the current directory.`
  )
)

export const json = Options.boolean("json").pipe(
  Options.withDescription("Print JSON instead of a table.")
)

/** `--url`, `--token`, `--json`: spread into a command's options. */
export const clientOptions = { url, token, json } as const

export interface ClientOptions {
  readonly url: string
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly json: boolean
}

export const storeOption = Options.text("store").pipe(
  Options.withAlias("s"),
  Options.withDescription("The store id: every admin route is scoped to one store.")
)

// ---------------------------------------------------------------------------------------------
// Input validation: one clear line naming the option

export const decodeInput = <A, I>(
  name: string,
  schema: Schema.Schema<A, I>,
  value: unknown,
  expected: string
): Effect.Effect<A, CliError> =>
  Schema.decodeUnknown(schema)(value).pipe(
    Effect.mapError(() => new CliError({ message: `${name} ${JSON.stringify(value)} is invalid: expected ${expected}` }))
  )

export const decodeStore = (value: string) =>
  decodeInput("--store", StoreId, value, "a store id (letters, digits and . _ : -, at most 128 characters)")

/** The base URL without trailing slashes (the API's paths start with one). */
export const checkBaseUrl = (value: string): Effect.Effect<string, CliError> =>
  Effect.try({
    try: () => new URL(value),
    catch: () => new CliError({ message: `--url ${JSON.stringify(value)} is not a URL (e.g. ${defaultUrl})` })
  }).pipe(
    Effect.filterOrFail(
      (parsed) => parsed.protocol === "http:" || parsed.protocol === "https:",
      () => new CliError({ message: `--url ${JSON.stringify(value)} must be an http:// or https:// URL` })
    ),
    Effect.map((parsed) => parsed.href.replace(/\/+$/, ""))
  )

// ---------------------------------------------------------------------------------------------
// The admin token

const nonEmpty = (value: Option.Option<Redacted.Redacted<string>>) =>
  Option.filter(value, (t) => Redacted.value(t).trim().length > 0)

/**
 * `--token`, else `ADMIN_TOKEN` (both arrive through the option), else the
 * token dev mode generated and keeps in its file-backed secret store.
 */
export const resolveToken = (
  given: Option.Option<Redacted.Redacted<string>>,
  secretsDir: string = devSecretsDir
): Effect.Effect<Redacted.Redacted<string>, CliError, FileSystem.FileSystem | Path.Path> =>
  Option.match(nonEmpty(given), {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.gen(function*() {
        const vault = yield* makeVaultDev(secretsDir)
        const stored = yield* vault.read(serviceSecretPath).pipe(
          Effect.mapError((e) =>
            new CliError({ message: `no --token or ADMIN_TOKEN given, and dev mode's token could not be read: ${e.reason}` })
          )
        )
        const found = nonEmpty(Option.flatMap(stored, (data) => Option.fromNullable(data["admin.token"])))
        if (Option.isNone(found)) {
          return yield* new CliError({
            message: `no admin token: pass --token or set ADMIN_TOKEN (dev mode keeps its token under ${secretsDir}: ` +
              "run this from the directory where `npm start` runs)"
          })
        }
        return found.value
      })
  })

// ---------------------------------------------------------------------------------------------
// The typed client

/**
 * What the CLI calls. Built here rather than taken from `Api` so the client
 * keeps compiling whichever groups the server's `Api` has added so far.
 */
export class ClientApi extends HttpApi.make("integration-service")
  .add(WebhooksApi)
  .add(DevApi)
  .add(ConnectorsApi)
  .add(ConnectorRunsApi)
  .add(CredentialsApi)
{}

/** An error answer of the API (any status ≥ 400), with what its `{error, message}` body said. */
export class ApiProblem extends Data.Class<{
  readonly status: number
  readonly method: string
  readonly url: string
  readonly code: string | undefined
  readonly detail: string | undefined
}> {}

const ErrorBody = Schema.parseJson(Schema.Struct({ error: Schema.String, message: Schema.optional(Schema.String) }))

const problemOf = (response: { readonly status: number; readonly request: HttpClientRequest.HttpClientRequest }, text: string) => {
  const body = Schema.decodeUnknownOption(ErrorBody)(text)
  return new ApiProblem({
    status: response.status,
    method: response.request.method,
    url: response.request.url,
    code: Option.getOrUndefined(Option.map(body, (b) => b.error)),
    detail: Option.getOrUndefined(Option.flatMap(body, (b) => Option.fromNullable(b.message)))
  })
}

/**
 * Every status ≥ 400 becomes a `ResponseError` carrying an `ApiProblem`, so
 * errors read the same whether the endpoint declares them or not (a 404 from
 * a route an older server lacks, a 500, a proxy's HTML page); and no request
 * hangs forever.
 */
const apiTransport = (token: Redacted.Redacted<string>) => (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  client.pipe(
    HttpClient.mapRequest(HttpClientRequest.bearerToken(token)),
    HttpClient.mapRequest(HttpClientRequest.acceptJson),
    HttpClient.transform((effect, request) =>
      effect.pipe(
        Effect.flatMap((response) =>
          response.status < 400
            ? Effect.succeed(response)
            : response.text.pipe(
              Effect.orElseSucceed(() => ""),
              Effect.flatMap((text) =>
                Effect.fail(
                  new HttpClientError.ResponseError({
                    request,
                    response,
                    reason: "StatusCode",
                    cause: problemOf(response, text)
                  })
                )
              )
            )
        ),
        Effect.timeoutFail({
          duration: requestTimeout,
          onTimeout: () =>
            new HttpClientError.RequestError({
              request,
              reason: "Transport",
              description: `no answer within ${Duration.format(requestTimeout)}`
            })
        })
      )
    )
  )

const buildClient = (baseUrl: string, token: Redacted.Redacted<string>) =>
  HttpApiClient.make(ClientApi, { baseUrl, transformClient: apiTransport(token) })

export type AdminClient = Effect.Effect.Success<ReturnType<typeof buildClient>>

/** The typed admin API client for `--url`, authorized with the resolved token. */
export const makeAdminClient = (
  options: Pick<ClientOptions, "url" | "token">
): Effect.Effect<AdminClient, CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const baseUrl = yield* checkBaseUrl(options.url)
    const bearer = yield* resolveToken(options.token)
    return yield* buildClient(baseUrl, bearer).pipe(Effect.provide(FetchHttpClient.layer))
  })

// ---------------------------------------------------------------------------------------------
// Failures → one line

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

const pathOf = (requestUrl: string) => {
  try {
    const parsed = new URL(requestUrl)
    return parsed.pathname
  } catch {
    return requestUrl
  }
}

const describeProblem = (problem: ApiProblem): string => {
  const where = `${problem.method} ${pathOf(problem.url)}`
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

const originOf = (requestUrl: string) => {
  try {
    return new URL(requestUrl).origin
  } catch {
    return requestUrl
  }
}

/** One line for anything a command can fail with; never the token, never a stack. */
export const describeFailure = (error: unknown): string => {
  if (error instanceof CliError) return error.message
  if (HttpClientError.isHttpClientError(error)) {
    if (error._tag === "RequestError") {
      const origin = originOf(error.request.url)
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
    if (error.cause instanceof ApiProblem) return describeProblem(error.cause)
    return `unexpected answer (HTTP ${error.response.status}) from ${error.request.method} ${pathOf(error.request.url)}`
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
    return Console.error(`error: ${line}`).pipe(
      Effect.zipRight(Effect.sync(() => {
        process.exitCode = 1
      }))
    )
  })

export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))
