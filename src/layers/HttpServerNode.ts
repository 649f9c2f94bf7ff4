import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { AppConfig } from "../services/AppConfig.ts"

const notYet = JSON.stringify({ error: "unavailable", message: "the service is starting or stopping; try again" })

/**
 * The port is bound when the server layer is built, but the API's handler is
 * attached only once everything behind it is up (migrations, caches); and it is
 * detached before the server closes at shutdown. A request arriving in between
 * would get no answer at all: this listener, registered first, answers it with
 * a fast 503 and `Retry-After` whenever no other request listener is attached.
 */
const answerWhileNotServing = (server: Server) => (request: IncomingMessage, response: ServerResponse) => {
  if (server.listenerCount("request") > 1) return
  request.resume()
  response.writeHead(503, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(notYet),
    "retry-after": "1",
    connection: "close"
  })
  response.end(notYet)
}

/** Node's HTTP server on the configured port (0 picks a free one). */
export const makeHttpServerNode = (port: number, host?: string) =>
  NodeHttpServer.layer(() => {
    const server = createServer({ keepAliveTimeout: 65_000 })
    server.on("request", answerWhileNotServing(server))
    return server
  }, { port, ...(host ? { host } : {}) })

export const HttpServerNode = Layer.unwrapEffect(Effect.map(AppConfig, (config) => makeHttpServerNode(config.port)))
