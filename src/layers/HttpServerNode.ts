import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AppConfig } from "../services/AppConfig.ts"
import { HttpFrontDoor } from "../services/HttpFrontDoor.ts"
import { FrontDoorServer, makeFrontDoor } from "./HttpFrontDoorNode.ts"

/** Node's HTTP server on the configured port (0 picks a free one), with its front door (`HttpFrontDoor`). */
export const makeHttpServerNode = (port: number, host?: string) =>
  Layer.unwrapEffect(Effect.sync(() => {
    const door = makeFrontDoor()
    return Layer.merge(
      NodeHttpServer.layer(() => new FrontDoorServer({ keepAliveTimeout: 65_000 }, door), { port, ...(host ? { host } : {}) }),
      Layer.succeed(HttpFrontDoor, door.service)
    )
  }))

export const HttpServerNode = Layer.unwrapEffect(Effect.map(AppConfig, (config) => makeHttpServerNode(config.port)))
