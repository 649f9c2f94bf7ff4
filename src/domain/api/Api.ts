import { HttpApi, OpenApi } from "@effect/platform"
import { PayloadTooLarge } from "./errors.ts"
import { ConsoleApi } from "./ConsoleApi.ts"
import { ConnectorRunsApi } from "./ConnectorRunsApi.ts"
import { ConnectorsApi } from "./ConnectorsApi.ts"
import { CredentialsApi } from "./CredentialsApi.ts"
import { DevApi } from "./DevApi.ts"
import { GatewayApi } from "./GatewayApi.ts"
import { HealthApi } from "./HealthApi.ts"
import { MetricsApi, OpsApi } from "./OpsApi.ts"
import { WebhooksApi } from "./WebhooksApi.ts"

/** The whole HTTP API; `GET /openapi.json` is generated from it. */
export class Api extends HttpApi.make("integration-service")
  .add(HealthApi)
  .add(GatewayApi)
  .add(WebhooksApi)
  .add(CredentialsApi)
  .add(ConnectorsApi)
  .add(ConnectorRunsApi)
  .add(OpsApi)
  .add(MetricsApi)
  .add(DevApi)
  .add(ConsoleApi)
  // Any route: a request body over the limit (bodyLimits.ts) is refused before it is read.
  .addError(PayloadTooLarge)
  .annotate(OpenApi.Title, "ShopSTAR3 integration-service")
  .annotate(OpenApi.Version, "1")
{}
