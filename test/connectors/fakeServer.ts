/**
 * A scripted fake marketplace for connector tests: a real HTTP server on
 * 127.0.0.1:0 (closed with the test's scope) that records every request and
 * answers with what the test's handler returns.
 *
 *   const server = yield* fakeServer((req) => req.path === "/token" ? json(200, {...}) : json(404, {}))
 *   // settings: { baseUrl: server.url, … }
 *   expect(server.requests.map((r) => r.path)).toEqual([...])
 *   expect(server.errors).toEqual([])   // assertions the handler threw
 */
import { Effect } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface FakeRequest {
  readonly method: string
  /** Path and query, as sent. */
  readonly url: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
  /** The body parsed as JSON (undefined when empty or not JSON). */
  readonly json: unknown
  /** The body parsed as application/x-www-form-urlencoded. */
  readonly form: URLSearchParams
}

export interface FakeResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  /** A string or bytes are sent as they are; anything else as JSON. */
  readonly body?: unknown
}

export type FakeHandler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>

export interface FakeServer {
  readonly url: string
  readonly port: number
  /** Every request, in arrival order. */
  readonly requests: Array<FakeRequest>
  /** Errors thrown by the handler (answered with a 500): a test asserts this is empty. */
  readonly errors: Array<string>
  /** Replace the handler (e.g. between phases of a test). */
  readonly setHandler: (handler: FakeHandler) => void
}

export const json = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): FakeResponse => ({
  status,
  body,
  headers
})

const parseJson = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export const fakeServer = (initial: FakeHandler) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly fake: FakeServer }>((resume) => {
      let handler = initial
      const requests: Array<FakeRequest> = []
      const errors: Array<string> = []
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          const url = new URL(req.url ?? "/", "http://fake.invalid")
          const request: FakeRequest = {
            method: req.method ?? "",
            url: req.url ?? "",
            path: url.pathname,
            query: url.searchParams,
            headers: req.headers,
            body,
            json: parseJson(body),
            form: new URLSearchParams(body)
          }
          requests.push(request)
          Promise.resolve()
            .then(() => handler(request))
            .catch((cause: unknown): FakeResponse => {
              const message = cause instanceof Error ? cause.message : String(cause)
              errors.push(`${request.method} ${request.path}: ${message}`)
              return json(500, { error: { code: 500, message: `fake server: ${message}`, status: "INTERNAL" } })
            })
            .then((response) => {
              const raw = response.body instanceof Uint8Array
              const text = response.body === undefined
                ? ""
                : raw
                ? Buffer.from(response.body as Uint8Array)
                : typeof response.body === "string"
                ? response.body
                : JSON.stringify(response.body)
              res.writeHead(response.status, {
                ...(typeof response.body === "string" || response.body === undefined
                  ? {}
                  : { "content-type": "application/json" }),
                ...response.headers
              })
              res.end(text)
            })
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({
          server,
          fake: {
            url: `http://127.0.0.1:${port}`,
            port,
            requests,
            errors,
            setHandler: (next) => {
              handler = next
            }
          }
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ fake }) => fake))
