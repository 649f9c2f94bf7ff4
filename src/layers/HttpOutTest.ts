import { Context, Effect, Layer, Ref } from "effect"
import {
  HttpOut,
  HttpOutError,
  type HttpOutShape,
  type OutboundRequest,
  type OutboundResponse
} from "../services/HttpOut.ts"

/**
 * Answers a request. Returning an `HttpOutError` as the value is the same as
 * failing with it, so scripted failures can be written either way.
 */
export type HttpOutTestHandler = (
  request: OutboundRequest
) => Effect.Effect<OutboundResponse | HttpOutError, HttpOutError>

/** What the test HttpOut has been asked, oldest first. */
export interface HttpOutRecorderShape {
  readonly requests: Effect.Effect<ReadonlyArray<OutboundRequest>>
  readonly clear: Effect.Effect<void>
}

export class HttpOutRecorder extends Context.Tag("integration-service/HttpOutRecorder")<
  HttpOutRecorder,
  HttpOutRecorderShape
>() {}

/** A response for handlers: `respond(200)`, `respond(500, "boom")`. */
export const respond = (
  status: number,
  body = "",
  headers: Readonly<Record<string, string>> = {}
): OutboundResponse => ({ status, headers, body, truncated: false, durationMs: 0 })

export const makeHttpOutTest = (handler: HttpOutTestHandler): Effect.Effect<{
  readonly httpOut: HttpOutShape
  readonly recorder: HttpOutRecorderShape
}> =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<OutboundRequest>>([])
    const httpOut: HttpOutShape = {
      // Recorded before the handler runs so failed attempts are visible too.
      request: (request) =>
        Ref.update(seen, (all) => [...all, request]).pipe(
          Effect.zipRight(handler(request)),
          Effect.flatMap((result) => result instanceof HttpOutError ? Effect.fail(result) : Effect.succeed(result))
        )
    }
    const recorder: HttpOutRecorderShape = { requests: Ref.get(seen), clear: Ref.set(seen, []) }
    return { httpOut, recorder }
  })

/** Provides both `HttpOut` and the `HttpOutRecorder` that watches it. */
export const HttpOutTest = (handler: HttpOutTestHandler): Layer.Layer<HttpOut | HttpOutRecorder> =>
  Layer.effectContext(
    Effect.map(makeHttpOutTest(handler), ({ httpOut, recorder }) =>
      Context.make(HttpOut, httpOut).pipe(Context.add(HttpOutRecorder, recorder)))
  )
