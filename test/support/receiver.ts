import { Effect, Queue } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingMessage["headers"]
  readonly body: Uint8Array
  readonly text: string
}

/**
 * A local webhook receiver on 127.0.0.1:0 for the length of a scope. `respond`
 * decides each answer (default 200); every request lands in `received`.
 */
export const startReceiver = (
  respond: (request: ReceivedRequest, res: ServerResponse) => void = (_, res) => {
    res.statusCode = 200
    res.end("ok")
  }
) =>
  Effect.gen(function*() {
    const received = yield* Queue.unbounded<ReceivedRequest>()
    const server = yield* Effect.acquireRelease(
      Effect.async<ReturnType<typeof createServer>>((resume) => {
        const s = createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (c: Buffer) => chunks.push(c))
          req.on("end", () => {
            const body = new Uint8Array(Buffer.concat(chunks))
            const request: ReceivedRequest = {
              method: req.method ?? "",
              path: req.url ?? "",
              headers: req.headers,
              body,
              text: new TextDecoder().decode(body)
            }
            Queue.unsafeOffer(received, request)
            respond(request, res)
          })
        })
        s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
      }),
      (s) => Effect.async<void>((resume) => {
        s.closeAllConnections()
        s.close(() => resume(Effect.void))
      })
    )
    const { port } = server.address() as AddressInfo
    return { url: `http://127.0.0.1:${port}`, received }
  })
