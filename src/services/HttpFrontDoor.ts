import { Context, type Effect, type Scope } from "effect"

/** What the front door sees of a request: its method, raw URL (path and query) and headers (lower-case names). */
export interface FrontDoorRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

/** A whole answer, serialized beforehand: written as it is, headers in their order. */
export interface FrontDoorAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/**
 * The HTTP server's own first look at every request, before the HTTP app (and
 * any fiber) sees it. The program registers what it wants answered there; the
 * registrations last as long as the registering scope.
 */
export interface HttpFrontDoorShape {
  /**
   * `answer` is asked first about every `method` request for exactly `path`
   * (any query): an answer is written at once, undefined passes the request on
   * to the HTTP app. It must be synchronous, quick, and never throw.
   */
  readonly route: (
    method: string,
    path: string,
    answer: (request: FrontDoorRequest) => FrontDoorAnswer | undefined
  ) => Effect.Effect<void, never, Scope.Scope>
  /**
   * A request whose body is larger than `limit(request)` bytes is answered
   * with `tooLarge(limit)` without reading it (a declared `Content-Length`),
   * or as soon as it has read more than that (a chunked body, which reaches
   * the HTTP app complete and bounded).
   */
  readonly limitBodies: (
    limit: (request: FrontDoorRequest) => number,
    tooLarge: (limit: number) => FrontDoorAnswer
  ) => Effect.Effect<void, never, Scope.Scope>
}

export class HttpFrontDoor extends Context.Tag("integration-service/HttpFrontDoor")<HttpFrontDoor, HttpFrontDoorShape>() {}
