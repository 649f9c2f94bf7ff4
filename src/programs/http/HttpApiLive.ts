import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { flow } from "effect"
import { Layer } from "effect"
import { Api } from "./Api.ts"
import { AdminAuthLive } from "./AdminAuth.ts"
import { DevHandlers } from "./DevHandlers.ts"
import { uniformErrorBodies } from "./errorBodies.ts"
import { HealthHandlers } from "./HealthHandlers.ts"

const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide([HealthHandlers, DevHandlers]),
  Layer.provide(AdminAuthLive)
)

/** The HTTP API served on whatever `HttpServer` the runtime provides. */
export const HttpApiLive = HttpApiBuilder.serve(flow(uniformErrorBodies, HttpMiddleware.logger)).pipe(
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
  Layer.provide(ApiLive),
  HttpServer.withLogAddress
)
