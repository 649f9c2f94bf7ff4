/** A real HTTP server for the HttpOut tests, the client under test with its options, and ways to look at its failures. */
import { Effect, Exit } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { makeHttpOutLive, type HttpOutLiveOptions } from "../../src/layers/HttpOutLive.ts"
import { HttpOutError } from "../../src/services/HttpOut.ts"

export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

export interface TestServer {
  readonly port: number
  readonly url: string
  /** Requests whose body has been read completely. */
  readonly received: Array<Received>
  readonly connections: () => number
  /** Resolves when a socket the server accepted is closed. */
  readonly socketClosed: Promise<void>
}

/** A real server on 127.0.0.1:0; `handle` runs once the request body has been read. */
export const serve = (handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly info: TestServer }>((resume) => {
      const received: Array<Received> = []
      let connections = 0
      let markClosed: () => void = () => undefined
      const socketClosed = new Promise<void>((resolve) => (markClosed = resolve))
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const body = Buffer.concat(chunks)
          received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
          handle(req, res, body)
        })
      })
      server.on("connection", (socket) => {
        connections++
        socket.on("close", () => markClosed())
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({
          server,
          info: { port, url: `http://127.0.0.1:${port}`, received, connections: () => connections, socketClosed }
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ info }) => info))

const defaults: HttpOutLiveOptions = {
  defaultTimeoutMs: 2_000,
  defaultMaxBodyBytes: 16 * 1024,
  blockPrivateAddresses: false
}

export const client = (overrides: Partial<HttpOutLiveOptions> = {}) => makeHttpOutLive({ ...defaults, ...overrides })

export const failureOf = <A>(exit: Exit.Exit<A, HttpOutError>): HttpOutError => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (!(error instanceof HttpOutError)) throw new Error(`expected an HttpOutError, got ${String(exit.cause)}`)
  return error
}

/** Within `ms`, or the test fails (instead of hanging until vitest's timeout). */
export const within = (promise: Promise<void>, ms: number) =>
  Effect.promise(() =>
    Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])
  )

/** Polls `condition` every 5 ms, for at most 2 s. */
export const waitFor = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 2 s")
    await new Promise((r) => setTimeout(r, 5))
  }
}
