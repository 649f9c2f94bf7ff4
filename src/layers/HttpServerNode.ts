import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { AppConfig } from "../services/AppConfig.ts"

/** Node's HTTP server on the configured port (0 picks a free one). */
export const makeHttpServerNode = (port: number, host?: string) =>
  NodeHttpServer.layer(() => createServer({ keepAliveTimeout: 65_000 }), { port, ...(host ? { host } : {}) })

export const HttpServerNode = Layer.unwrapEffect(Effect.map(AppConfig, (config) => makeHttpServerNode(config.port)))
