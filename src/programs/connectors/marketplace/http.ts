import { Duration, Effect, Option, Schedule } from "effect"
import { HttpOut, type OutboundResponse } from "../../../services/HttpOut.ts"
import { type ConnectorContext, ConnectorError } from "../ConnectorAdapter.ts"

export interface MarketplaceRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  /** Sent as JSON unless `form` is set. */
  readonly json?: unknown
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Readonly<Record<string, string>>
  /** Throttle bucket: the marketplace operation and its published rate. */
  readonly operation: string
  readonly ratePerSecond: number
  readonly burst: number
}

export interface MarketplaceResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly text: string
}

/** How many times a throttled (429) or quota-limited request is retried within one run. */
const throttleRetries = 4

/** Marketplace answers are read up to this size (a larger one is cut, and then not JSON). */
const maxBodyBytes = 4 * 1024 * 1024

const parse = (response: OutboundResponse): MarketplaceResponse => {
  let body: unknown = undefined
  try {
    body = response.body === "" ? undefined : JSON.parse(response.body)
  } catch {
    body = undefined
  }
  return { status: response.status, headers: response.headers, body, text: response.body }
}

/** Seconds from a Retry-After header (delta-seconds form), capped. */
const retryAfter = (headers: Readonly<Record<string, string>>) => {
  const value = Number(headers["retry-after"])
  return Number.isFinite(value) && value >= 0 ? Option.some(Duration.seconds(Math.min(value, 60))) : Option.none()
}

class Throttled {
  readonly _tag = "Throttled"
  constructor(readonly wait: Option.Option<Duration.Duration>, readonly message: string) {}
}

/** `base` (a configured URL, trailing slashes dropped) + `path` + the query. */
export const marketplaceUrl = (base: string, path: string, query: Readonly<Record<string, string | undefined>> = {}) => {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value)
  const search = params.toString()
  return `${base.replace(/\/+$/, "")}${path}${search === "" ? "" : `?${search}`}`
}

export interface CallOptions {
  /** The Authorization-style headers for a token; omitted for the token call itself. */
  readonly auth?: (accessToken: string) => Readonly<Record<string, string>>
  readonly token?: Effect.Effect<string, ConnectorError, HttpOut>
  /** Which answers mean "slow down" besides 429 (quota errors some marketplaces answer with other statuses). */
  readonly isThrottled?: (response: MarketplaceResponse) => boolean
  /** Which answers mean "this access token is no longer good" besides 401 (e.g. SP-API's 403). */
  readonly isTokenRejected?: (response: MarketplaceResponse) => boolean
  readonly describeError: (response: MarketplaceResponse) => string
}

/**
 * One marketplace call: throttled client-side per operation, retried with
 * backoff (or the server's Retry-After) when the marketplace throttles, and
 * with a fresh access token once after a 401 (or another token refusal).
 * Answers the parsed response for any other status below 500.
 */
export const marketplaceCall = <S>(
  context: ConnectorContext<S>,
  request: MarketplaceRequest,
  options: CallOptions
): Effect.Effect<MarketplaceResponse, ConnectorError, HttpOut> =>
  Effect.gen(function*() {
    const http = yield* HttpOut
    const body = request.form !== undefined
      ? new URLSearchParams(request.form as Record<string, string>).toString()
      : request.json !== undefined
      ? JSON.stringify(request.json)
      : undefined
    const contentType = request.form !== undefined
      ? { "content-type": "application/x-www-form-urlencoded" }
      : request.json !== undefined
      ? { "content-type": "application/json" }
      : {}
    const send = (retriedAuth: boolean): Effect.Effect<MarketplaceResponse, ConnectorError | Throttled, HttpOut> =>
      Effect.gen(function*() {
        yield* context.throttle.take(request.operation, request.ratePerSecond, request.burst)
        const token = options.token ? yield* options.token : undefined
        const response = yield* http.request({
          method: request.method,
          url: request.url,
          headers: {
            accept: "application/json",
            ...contentType,
            ...(token !== undefined && options.auth ? options.auth(token) : {}),
            ...request.headers
          },
          ...(body !== undefined ? { body } : {}),
          timeoutMs: 30_000,
          maxBodyBytes
        }).pipe(
          Effect.mapError((error) => new ConnectorError({ kind: "Unavailable", message: `${request.operation}: ${error.message}` }))
        )
        const parsed = parse(response)
        if (parsed.status === 429 || (options.isThrottled?.(parsed) ?? false)) {
          return yield* Effect.fail(new Throttled(retryAfter(parsed.headers), options.describeError(parsed)))
        }
        const tokenRefused = parsed.status === 401 || (options.isTokenRejected?.(parsed) ?? false)
        if (tokenRefused && token !== undefined && !retriedAuth) {
          yield* context.tokens.invalidate(token)
          return yield* send(true)
        }
        if (parsed.status >= 500) {
          return yield* Effect.fail(
            new ConnectorError({
              kind: "Unavailable",
              message: `${request.operation}: HTTP ${parsed.status}: ${options.describeError(parsed)}`
            })
          )
        }
        return parsed
      })

    return yield* send(false).pipe(
      Effect.retry({
        while: (error) => error instanceof Throttled,
        schedule: Schedule.exponential("500 millis").pipe(
          Schedule.jittered,
          Schedule.intersect(Schedule.recurs(throttleRetries)),
          // A Retry-After from the server is waited out on top of the backoff.
          Schedule.tapInput((error: ConnectorError | Throttled) =>
            error instanceof Throttled && Option.isSome(error.wait) ? Effect.sleep(error.wait.value) : Effect.void
          )
        )
      }),
      Effect.catchIf(
        (error): error is Throttled => error instanceof Throttled,
        (error) => Effect.fail(new ConnectorError({ kind: "Throttled", message: `${request.operation}: ${error.message}` }))
      )
    )
  })
