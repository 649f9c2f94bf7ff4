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
import { Duration, Effect, type Redacted } from "effect"
import { ConnectorRunsApi } from "../domain/api/ConnectorRunsApi.ts"
import { ConnectorsApi } from "../domain/api/ConnectorsApi.ts"
import { CredentialsApi } from "../domain/api/CredentialsApi.ts"
import { DevApi } from "../domain/api/DevApi.ts"
import { HealthApi } from "../domain/api/HealthApi.ts"
import { OpsApi } from "../domain/api/OpsApi.ts"
import { WebhooksApi } from "../domain/api/WebhooksApi.ts"
import { ApiProblem, type CliError, problemOf } from "./failures.ts"
import { resolveTarget, type TargetOptions } from "./target.ts"

/**
 * The ops CLI is an HTTP client of the service's admin API, so it works the
 * same against dev mode (whose database lives inside the dev server's process)
 * and against a live deployment.
 */

// What commands import from here (they were defined here before).
export { ApiProblem, CliError, describeFailure, runCommand } from "./failures.ts"
export { checkBaseUrl, defaultUrl, devSecretsDir, resolveToken } from "./target.ts"
export * from "./options.ts"

const requestTimeout = Duration.seconds(30)

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
  .add(OpsApi)
  .add(HealthApi)
{}

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

/** The typed admin API client for the resolved service (target.ts), authorized with the resolved token. */
export const makeAdminClient = (
  options: TargetOptions
): Effect.Effect<AdminClient, CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(options)
    return yield* buildClient(target.baseUrl, target.token).pipe(Effect.provide(FetchHttpClient.layer))
  })

/** The admin client for the options' URL and token, and one call with it. */
export const callAdmin = <A, E, R>(options: TargetOptions, call: (client: AdminClient) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(makeAdminClient(options), call)

/** `ApiProblem` of a failed call, when it was an answer with a status. */
export const problemOfError = (error: unknown): ApiProblem | undefined =>
  HttpClientError.isHttpClientError(error) && error._tag === "ResponseError" && error.cause instanceof ApiProblem
    ? error.cause
    : undefined
