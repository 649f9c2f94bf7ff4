import { Layer } from "effect"
import { HttpApiLive } from "./http/HttpApiLive.ts"
import { MigrationsLive } from "./migrate.ts"

/**
 * Everything the service runs: the HTTP API and (as they are added) the Kafka
 * consumers, delivery workers and pollers, each a scoped layer whose fibers
 * stop when the layer is released. The migrations complete first.
 * Infrastructure (Db, Kafka, Vault, HttpOut, HttpServer, AppConfig) is
 * provided by `LiveInfra` or `DevInfra` (src/layers/Infra.ts).
 */
export const MainLive = Layer.mergeAll(HttpApiLive).pipe(Layer.provide(MigrationsLive))
