import { HttpApiBuilder, HttpMiddleware, HttpRouter, HttpServer } from "@effect/platform"
import { Layer } from "effect"
import { Api } from "../../domain/api/Api.ts"
import { AdminAuthLive, WebhookAuthLive } from "./AdminAuth.ts"
import { ConsoleHandlers } from "./ConsoleHandlers.ts"
import { ConnectorRunsHandlers } from "./ConnectorRunsHandlers.ts"
import { ConnectorsHandlers } from "./ConnectorsHandlers.ts"
import { CredentialsHandlers } from "./CredentialsHandlers.ts"
import { DevHandlers } from "./DevHandlers.ts"
import { UniformDecodeErrors } from "./errorBodies.ts"
import { GatewayHandlers } from "./GatewayHandlers.ts"
import { HealthHandlers } from "./HealthHandlers.ts"
import { MetricsHandlers, OpsHandlers } from "./OpsHandlers.ts"
import { RouteFallbacks } from "./routeFallbacks.ts"
import { WebhooksHandlers } from "./WebhooksHandlers.ts"

const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide([
    HealthHandlers,
    GatewayHandlers,
    DevHandlers,
    WebhooksHandlers,
    CredentialsHandlers,
    ConnectorsHandlers,
    ConnectorRunsHandlers,
    OpsHandlers,
    MetricsHandlers,
    ConsoleHandlers
  ]),
  Layer.provide([AdminAuthLive, WebhookAuthLive, UniformDecodeErrors, RouteFallbacks])
)

/** The HTTP API served on whatever `HttpServer` the runtime provides. */
export const HttpApiLive = HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
  Layer.provide(ApiLive),
  // Store ids may be 128 characters; the router's default cap on a path segment is 100.
  Layer.provide(HttpRouter.setRouterConfig({ maxParamLength: 256 })),
  HttpServer.withLogAddress
)
