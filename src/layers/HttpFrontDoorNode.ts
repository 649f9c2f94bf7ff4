import { Effect } from "effect"
import { type IncomingMessage, Server, type ServerOptions, type ServerResponse } from "node:http"
import { Readable } from "node:stream"
import type { FrontDoorAnswer, FrontDoorRequest, HttpFrontDoorShape } from "../services/HttpFrontDoor.ts"

type Answerer = (request: FrontDoorRequest) => FrontDoorAnswer | undefined
/** Hands a request on to the HTTP app. */
type Pass = (request: IncomingMessage, response: ServerResponse) => void

interface Limits {
  readonly limit: (request: FrontDoorRequest) => number
  readonly tooLarge: (limit: number) => FrontDoorAnswer
}

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query < 0 ? url : url.slice(0, query)
}

const write = (response: ServerResponse, answer: FrontDoorAnswer) => {
  response.writeHead(answer.status, answer.headers)
  response.end(answer.body)
}

/**
 * A chunked body, read here (never more than the limit) and handed on as a
 * complete message with its length: the HTTP app reads it as it would any
 * other, and a body over the limit is answered before the app sees it.
 */
const replay = (request: IncomingMessage, body: Buffer): IncomingMessage => {
  const headers = { ...request.headers, "content-length": String(body.length) }
  delete headers["transfer-encoding"]
  return Object.assign(Readable.from(body.length > 0 ? [body] : [], { objectMode: false }), {
    headers,
    rawHeaders: request.rawHeaders,
    trailers: request.trailers,
    url: request.url,
    method: request.method,
    httpVersion: request.httpVersion,
    httpVersionMajor: request.httpVersionMajor,
    httpVersionMinor: request.httpVersionMinor,
    socket: request.socket,
    connection: request.socket,
    complete: true,
    aborted: false
  }) as unknown as IncomingMessage
}

/** The front door's registrations and its one entry point, `onRequest`. */
export const makeFrontDoor = () => {
  const routes = new Map<string, Map<string, Answerer>>()
  let limits: Limits | undefined

  const readChunked = (request: IncomingMessage, response: ServerResponse, limit: number, tooLarge: FrontDoorAnswer, pass: Pass) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let refused = false
    request.on("data", (chunk: Buffer) => {
      if (refused) return
      size += chunk.length
      if (size > limit) {
        // What follows is read and dropped until the connection closes after the answer.
        refused = true
        chunks.length = 0
        write(response, tooLarge)
        return
      }
      chunks.push(chunk)
    })
    request.on("end", () => {
      if (!refused) pass(replay(request, Buffer.concat(chunks, size)), response)
    })
    // A client that goes away mid-body: nothing was started, nothing to answer.
    request.on("error", () => {
      refused = true
    })
  }

  /**
   * Answers here, or passes the request on to the HTTP app. `expectsContinue`:
   * the client waits for `100 Continue` before it sends the body.
   */
  const onRequest = (request: IncomingMessage, response: ServerResponse, expectsContinue: boolean, pass: Pass): void => {
    if (limits !== undefined) {
      const declared = request.headers["content-length"]
      const chunked = declared === undefined && request.headers["transfer-encoding"] !== undefined
      if (declared !== undefined || chunked) {
        const limit = limits.limit(request as FrontDoorRequest)
        const tooLarge = limits.tooLarge(limit)
        if (chunked) {
          if (expectsContinue) response.writeContinue()
          return readChunked(request, response, limit, tooLarge, pass)
        }
        // Node has checked it is a number; the body is never read (Node drops it after the answer).
        if (Number(declared) > limit) return write(response, tooLarge)
      }
    }
    const byMethod = routes.get(pathOf(request.url ?? "/"))
    const answerer = byMethod?.get(request.method ?? "GET")
    if (answerer !== undefined) {
      let answer: FrontDoorAnswer | undefined
      try {
        answer = answerer(request as FrontDoorRequest)
      } catch {
        // The HTTP app answers (and logs) what the front door could not.
        answer = undefined
      }
      if (answer !== undefined) return write(response, answer)
    }
    if (expectsContinue) response.writeContinue()
    pass(request, response)
  }

  const service: HttpFrontDoorShape = {
    route: (method, path, answer) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const byMethod = routes.get(path) ?? new Map<string, Answerer>()
          byMethod.set(method.toUpperCase(), answer)
          routes.set(path, byMethod)
        }),
        () => Effect.sync(() => routes.get(path)?.delete(method.toUpperCase()))
      ),
    limitBodies: (limit, tooLarge) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          limits = { limit, tooLarge }
        }),
        () => Effect.sync(() => (limits = undefined))
      )
  }

  return { service, onRequest }
}

export type FrontDoor = ReturnType<typeof makeFrontDoor>

/**
 * Node's HTTP server with the front door in front of its `request` listeners
 * (the HTTP app's). `Expect: 100-continue` is answered here too, so a body
 * over the limit is refused before the client sends it.
 */
export class FrontDoorServer extends Server {
  constructor(options: ServerOptions, private readonly door: FrontDoor) {
    super(options)
    // Node emits checkContinue (instead of writing 100 Continue itself) only when it has a listener.
    this.on("checkContinue", () => {})
  }

  // One function for every request (no closure each time): this is the hot path.
  private readonly pass: Pass = (request, response) => {
    super.emit("request", request, response)
  }

  override emit(event: string, ...args: Array<any>): boolean {
    if (event === "request" || event === "checkContinue") {
      this.door.onRequest(args[0] as IncomingMessage, args[1] as ServerResponse, event === "checkContinue", this.pass)
      return true
    }
    return super.emit(event, ...args)
  }
}
