import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import { AppConfig } from "../services/AppConfig.ts"
import { HttpFrontDoor } from "../services/HttpFrontDoor.ts"
import { FrontDoorServer, makeFrontDoor } from "./HttpFrontDoorNode.ts"

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

/** Node's HTTP server on the configured port (0 picks a free one), with its front door (`HttpFrontDoor`). */
export const makeHttpServerNode = (port: number, host?: string) =>
  Layer.unwrapEffect(Effect.sync(() => {
    const door = makeFrontDoor()
    return Layer.merge(
      NodeHttpServer.layer(() => {
        const server = new FrontDoorServer({ keepAliveTimeout: 65_000 }, door)
        server.on("request", answerWhileNotServing(server))
        return server
      }, { port, ...(host ? { host } : {}) }),
      Layer.succeed(HttpFrontDoor, door.service)
    )
  }))

export const HttpServerNode = Layer.unwrapEffect(Effect.map(AppConfig, (config) => makeHttpServerNode(config.port)))
